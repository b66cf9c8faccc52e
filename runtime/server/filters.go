package server

import (
	"encoding/json"
	"net/http"
	"slices"
)

// parseFilterJSON reads Docker's filters JSON ({"name": {"x": true}} or
// {"name": ["x"]}) and refuses keys not in allowed.
func parseFilterJSON(s string, allowed ...string) (map[string][]string, error) {
	out := map[string][]string{}
	if s == "" {
		return out, nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, Errorf(http.StatusBadRequest, "invalid filters: %v", err)
	}
	for k, v := range raw {
		if !slices.Contains(allowed, k) {
			return nil, Errorf(http.StatusBadRequest, "invalid filter %q", k)
		}
		var set map[string]bool
		if json.Unmarshal(v, &set) == nil {
			for x := range set {
				out[k] = append(out[k], x)
			}
			continue
		}
		var list []string
		if err := json.Unmarshal(v, &list); err != nil {
			return nil, Errorf(http.StatusBadRequest, "invalid filter %q: %v", k, err)
		}
		out[k] = list
	}
	return out, nil
}
