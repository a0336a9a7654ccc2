package emulator

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

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

// TestJournalRecordsWhenTheAnswerStarts: a client holding the start of an
// answer finds its request in the journal already (here while the handler
// is still running), so tests can count requests right after a call.
func TestJournalRecordsWhenTheAnswerStarts(t *testing.T) {
	e, err := New("http://127.0.0.1:1", Options{})
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	srv := httptest.NewServer(e.withJournal(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write([]byte("x"))
		w.(http.Flusher).Flush()
		<-release
		_, _ = w.Write([]byte("y"))
	})))
	t.Cleanup(srv.Close)
	released := false
	t.Cleanup(func() {
		if !released {
			close(release) // before srv.Close, which waits for the handler
		}
	})
	resp, err := srv.Client().Get(srv.URL + "/oauth2/token")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.ReadFull(resp.Body, make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	if got := e.RequestCount("oauth2.token"); got != 1 {
		t.Fatalf("journal while the answer is under way: %d entries, want 1", got)
	}
	released = true
	close(release)
	if _, err := io.ReadAll(resp.Body); err != nil {
		t.Fatal(err)
	}
	reqs := e.Requests()
	if len(reqs) != 1 || reqs[0].Status != http.StatusTeapot || reqs[0].Operation != "oauth2.token" {
		t.Errorf("journal = %+v, want one oauth2.token entry with status 418", reqs)
	}
}

// TestJournalRecordsSilentAndDroppedRequests: a handler that writes nothing
// is recorded as the 200 net/http sends, and a dropped connection as
// status 0, each by the time the client has its answer (or error).
func TestJournalRecordsSilentAndDroppedRequests(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		status  int
		wantErr bool
	}{
		{"writes nothing", func(http.ResponseWriter, *http.Request) {}, http.StatusOK, false},
		{"drops the connection", func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := New("http://127.0.0.1:1", Options{})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(e.withJournal(tt.handler))
			t.Cleanup(srv.Close)
			resp, err := srv.Client().Get(srv.URL + "/oauth2/token")
			if err == nil {
				_ = resp.Body.Close()
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("Get: err = %v, want error %v", err, tt.wantErr)
			}
			reqs := e.Requests()
			if len(reqs) != 1 || reqs[0].Status != tt.status {
				t.Errorf("journal = %+v, want one entry with status %d", reqs, tt.status)
			}
		})
	}
}
