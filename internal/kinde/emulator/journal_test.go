package emulator

import "testing"

// Benchmarks count Kinde calls from RequestCount over far more requests
// than the journal keeps: the count must stay exact when old entries go.
func TestJournalCountsPastItsLimit(t *testing.T) {
	j := newJournal()
	const n = journalLimit*2 + 7
	for i := range n {
		op := "getUsers"
		if i%3 == 0 {
			op = "createUser"
		}
		j.add(Request{Operation: op})
	}
	if got := len(j.list()); got > journalLimit {
		t.Errorf("journal keeps %d entries, want at most %d", got, journalLimit)
	}
	wantCreate := (n + 2) / 3
	if got := j.count("createUser"); got != wantCreate {
		t.Errorf("createUser count = %d, want %d", got, wantCreate)
	}
	if got := j.count("getUsers"); got != n-wantCreate {
		t.Errorf("getUsers count = %d, want %d", got, n-wantCreate)
	}
	if got := j.count(""); got != n {
		t.Errorf("count of all = %d, want %d", got, n)
	}
	j.reset()
	if got := j.count(""); got != 0 || len(j.list()) != 0 {
		t.Errorf("after reset: count %d, %d entries; want none", got, len(j.list()))
	}
}
