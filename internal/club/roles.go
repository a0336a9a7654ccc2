package club

import (
	"slices"
	"strings"
)

func sortedCopy(keys []string) []string {
	out := slices.Clone(keys)
	if out == nil {
		out = []string{}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// diffRoles returns the roles in want that are not in have (grant) and the
// roles in have that are not in want (revoke).
func diffRoles(have, want []string) (grant, revoke []string) {
	for _, k := range want {
		if !slices.Contains(have, k) {
			grant = append(grant, k)
		}
	}
	for _, k := range have {
		if !slices.Contains(want, k) {
			revoke = append(revoke, k)
		}
	}
	return grant, revoke
}

func joinRoles(keys []string) string {
	if len(keys) == 0 {
		return "(none)"
	}
	return strings.Join(keys, ", ")
}

func splitName(full string) (first, last string) {
	full = strings.TrimSpace(full)
	if i := strings.LastIndexByte(full, ' '); i > 0 {
		return full[:i], full[i+1:]
	}
	return full, ""
}
