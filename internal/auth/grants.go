package auth

import (
	"maps"
	"sync"
	"sync/atomic"
)

// Grants says which roles hold which permissions. A business line declares
// the grants of its own permissions in its module (module.Module.Permissions)
// and the application registers them at start, so a new line adds its
// permissions without editing this package.
type Grants map[Role][]Permission

// registered holds the grants added by Register, copied on write so that
// Can reads it without a lock.
var (
	registered   atomic.Pointer[map[Role]map[Permission]bool]
	registerLock sync.Mutex
)

// Register adds g to the role table. Registering the same grants again
// changes nothing; grants are never withdrawn.
func Register(g Grants) {
	registerLock.Lock()
	defer registerLock.Unlock()
	next := map[Role]map[Permission]bool{}
	if cur := registered.Load(); cur != nil {
		for r, ps := range *cur {
			next[r] = maps.Clone(ps)
		}
	}
	for r, ps := range g {
		if next[r] == nil {
			next[r] = map[Permission]bool{}
		}
		for _, p := range ps {
			next[r][p] = true
		}
	}
	registered.Store(&next)
}

// granted reports whether a registered grant gives role perm.
func granted(role Role, perm Permission) bool {
	cur := registered.Load()
	return cur != nil && (*cur)[role][perm]
}
