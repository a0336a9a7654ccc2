package emulator

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Request is one journal entry: a request the emulator served. Bodies are
// never recorded, so secrets and tokens stay out of it.
type Request struct {
	Time      time.Time `json:"time"`
	Method    string    `json:"method"`
	Path      string    `json:"path"`
	Operation string    `json:"operation,omitempty"`
	Status    int       `json:"status"`
	ClientID  string    `json:"client_id,omitempty"`
	Fault     string    `json:"fault,omitempty"`
}

// journalLimit caps the journal so a long-running emulator does not grow
// without bound; the oldest entries are dropped first.
const journalLimit = 10000

type journal struct {
	mu      sync.Mutex
	entries []Request
	// counts are the requests per operation ("" for all) since the last
	// reset; unlike entries, they are never trimmed.
	counts  map[string]int
	waiters []chan struct{}
}

func newJournal() *journal { return &journal{counts: map[string]int{}} }

func (j *journal) add(r Request) {
	j.mu.Lock()
	if len(j.entries) >= journalLimit {
		// Drop the older half at once, so trimming stays amortised O(1).
		keep := journalLimit / 2
		n := copy(j.entries, j.entries[len(j.entries)-keep:])
		clear(j.entries[n:])
		j.entries = j.entries[:n]
	}
	j.entries = append(j.entries, r)
	j.counts[""]++
	if r.Operation != "" {
		j.counts[r.Operation]++
	}
	ws := j.waiters
	j.waiters = nil
	j.mu.Unlock()
	for _, w := range ws {
		close(w)
	}
}

func (j *journal) list() []Request {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.entries)
}

func (j *journal) reset() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.entries = nil
	clear(j.counts)
}

func (j *journal) count(operation string) int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.counts[operation]
}

// changed returns a channel closed at the next journal entry.
func (j *journal) changed() <-chan struct{} {
	j.mu.Lock()
	defer j.mu.Unlock()
	ch := make(chan struct{})
	j.waiters = append(j.waiters, ch)
	return ch
}

// Requests returns the journal: the requests served since the start or the
// last ResetRequests, oldest first, up to the latest 10,000 (older ones are
// dropped in halves). Control-plane calls are not recorded.
func (e *Emulator) Requests() []Request { return e.journal.list() }

// RequestCount returns how many requests with the given operation (an
// operationId such as "getUsers", or an OP endpoint name such as
// "oauth2.token") were served since the start or the last ResetRequests;
// "" counts every request. The count is exact even once the journal has
// dropped old entries.
func (e *Emulator) RequestCount(operation string) int { return e.journal.count(operation) }

// ResetRequests empties the journal.
func (e *Emulator) ResetRequests() { e.journal.reset() }

// WaitForRequests blocks until at least n journal entries have the given
// operation ("" for any) or ctx ends, and reports whether the count was
// reached. Tests use it instead of sleeping.
func (e *Emulator) WaitForRequests(ctx context.Context, operation string, n int) bool {
	for {
		ch := e.journal.changed()
		if e.RequestCount(operation) >= n {
			return true
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}

// journalWriter records the request's journal entry when the response
// starts (the first final WriteHeader, Write or Flush), before any byte of
// it can reach the client. Recording once the handler had returned let a
// client read the whole answer before its entry existed, so a test counting
// requests right after a call could miss the last one.
type journalWriter struct {
	http.ResponseWriter
	record func(status int)
	status int // the status recorded; 0 until the response starts
}

// start records the entry with status, once.
func (w *journalWriter) start(status int) {
	if w.status == 0 {
		w.status = status
		w.record(status)
	}
}

func (w *journalWriter) WriteHeader(code int) {
	// Informational answers (103 Early Hints) come before the real one;
	// 101 Switching Protocols is the last the client gets over HTTP.
	if code >= 200 || code == http.StatusSwitchingProtocols {
		w.start(code)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *journalWriter) Write(b []byte) (int, error) {
	w.start(http.StatusOK)
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *journalWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush passes flushes through for streaming handlers. A flush sends the
// header (200 unless one was written), so the response starts here too.
func (w *journalWriter) Flush() {
	w.start(http.StatusOK)
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// withJournal names the request's operation, hands inner layers a place to
// note the client and fault, and records the outcome when the response
// starts (see journalWriter). Inner layers note the client and fault before
// they answer, so the entry has them. A handler that writes nothing is
// recorded as 200 when it returns, before net/http sends that answer; a
// dropped connection (http.ErrAbortHandler) before any answer is recorded
// with status 0 before the panic goes on.
func (e *Emulator) withJournal(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ri := &requestInfo{operation: e.operationOf(r)}
		r = r.WithContext(context.WithValue(r.Context(), requestInfoKey, ri))
		if ri.operation == "control" {
			next.ServeHTTP(w, r)
			return
		}
		start := e.clock.Now()
		record := func(status int) {
			ri.mu.Lock()
			entry := Request{
				Time:      start,
				Method:    r.Method,
				Path:      r.URL.Path,
				Operation: ri.operation,
				Status:    status,
				ClientID:  ri.clientID,
				Fault:     ri.fault,
			}
			ri.mu.Unlock()
			e.journal.add(entry)
		}
		jw := &journalWriter{ResponseWriter: w, record: record}
		defer func() {
			v := recover()
			if jw.status == 0 {
				if v == nil {
					jw.start(http.StatusOK)
				} else {
					record(0)
				}
			}
			if v != nil {
				panic(v)
			}
		}()
		next.ServeHTTP(jw, r)
	})
}
