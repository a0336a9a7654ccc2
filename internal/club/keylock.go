package club

import "sync"

// keyLock serialises work per key (for example a club and an email) inside
// one process, so that a double submit is handled one after the other.
// Across processes, Kinde's own uniqueness of emails settles the race.
type keyLock struct {
	mu    sync.Mutex
	locks map[string]*keyLockEntry
}

type keyLockEntry struct {
	mu   sync.Mutex
	refs int
}

func (l *keyLock) lock(key string) (unlock func()) {
	l.mu.Lock()
	if l.locks == nil {
		l.locks = map[string]*keyLockEntry{}
	}
	e := l.locks[key]
	if e == nil {
		e = &keyLockEntry{}
		l.locks[key] = e
	}
	e.refs++
	l.mu.Unlock()

	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		l.mu.Lock()
		e.refs--
		if e.refs == 0 {
			delete(l.locks, key)
		}
		l.mu.Unlock()
	}
}
