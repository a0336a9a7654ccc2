package emulator_test

import (
	"net/http"
	"net/http/httptest"
)

// statusRecorder is an httptest.ResponseRecorder that exposes the status.
type statusRecorder struct {
	*httptest.ResponseRecorder
	status int
}

func newRecorder() *statusRecorder {
	return &statusRecorder{ResponseRecorder: httptest.NewRecorder()}
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseRecorder.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseRecorder.Write(b)
}

// httptestRequest builds a request as if from a loopback client.
func httptestRequest(method, target string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	r.RemoteAddr = "127.0.0.1:50000"
	return r
}
