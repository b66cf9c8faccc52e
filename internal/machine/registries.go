package machine

// SetInsecureRegistries stores hosts as m's insecure registries (see
// Config), under m's lock; provisioning then writes them onto the machine.
func (s *Store) SetInsecureRegistries(m *Machine, hosts []string) error {
	unlock, err := s.Lock(m.Name)
	if err != nil {
		return err
	}
	defer unlock()
	m.InsecureRegistries = hosts
	return s.Save(m)
}
