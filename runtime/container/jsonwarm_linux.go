package container

import "encoding/json"

// warmJSON encodes and decodes a zero value of each type, so that
// encoding/json has built its caches for them before a start needs them:
// a spare monitor and a warm init do it while they wait. Cold, those
// caches cost each start milliseconds in a TCG machine (about 0.25 ms
// natively for the monitor's types).
func warmJSON(zeros ...any) {
	for _, v := range zeros {
		if b, err := json.Marshal(v); err == nil {
			json.Unmarshal(b, v)
		}
	}
}
