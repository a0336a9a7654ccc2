package mail_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	netmail "net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/clubhouse/clubhouse/internal/mail"
)

// received is one message as the test SMTP server got it.
type received struct {
	From string
	To   []string
	User string // who logged in, "" without AUTH
	Data []byte
}

// serverOptions shape the test SMTP server.
type serverOptions struct {
	TLS        *tls.Config     // offer STARTTLS with this config
	User, Pass string          // require AUTH PLAIN with these
	RejectRcpt *smtp.SMTPError // refuse every recipient with this
}

// testSMTPServer is a tiny SMTP server on 127.0.0.1:0.
type testSMTPServer struct {
	Host string
	Port int
	msgs chan received
}

func startSMTPServer(t *testing.T, opts serverOptions) *testSMTPServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	ts := &testSMTPServer{Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, msgs: make(chan received, 4)}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &testSession{opts: opts, deliver: ts.msgs}, nil
	}))
	srv.Domain = "localhost"
	srv.TLSConfig = opts.TLS
	srv.ReadTimeout = 5 * time.Second
	srv.WriteTimeout = 5 * time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l)
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		<-done
	})
	return ts
}

// Next returns the message the server received, failing the test if none came.
func (ts *testSMTPServer) Next(t *testing.T) received {
	t.Helper()
	select {
	case m := <-ts.msgs:
		return m
	default:
		t.Fatal("the SMTP server received no message")
		return received{}
	}
}

type testSession struct {
	opts    serverOptions
	deliver chan<- received
	mu      sync.Mutex
	cur     received
}

func (s *testSession) AuthMechanisms() []string {
	if s.opts.User == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *testSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.opts.User || pass != s.opts.Pass {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication failed"}
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.cur.User = user
		return nil
	}), nil
}

func (s *testSession) Mail(from string, _ *smtp.MailOptions) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts.User != "" && s.cur.User == "" {
		return smtp.ErrAuthRequired
	}
	s.cur.From = from
	return nil
}

func (s *testSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.opts.RejectRcpt != nil {
		return s.opts.RejectRcpt
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cur.To = append(s.cur.To, to)
	return nil
}

func (s *testSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.mu.Lock()
	m := s.cur
	s.mu.Unlock()
	m.Data = b
	s.deliver <- m
	return nil
}

func (s *testSession) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cur = received{User: s.cur.User}
}

func (s *testSession) Logout() error { return nil }

// selfSignedTLS returns a server config for 127.0.0.1 and a client config
// that trusts it.
func selfSignedTLS(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generate key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "clubhouse test smtp"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("create certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("parse certificate: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}
	return server, &tls.Config{RootCAs: pool}
}

// parsed is a received message taken apart the way a mail client would.
type parsed struct {
	To, Subject, From string
	AutoSubmitted     string
	Parts             map[string]string // media type -> decoded body
}

func parseMessage(t *testing.T, data []byte) parsed {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("read message: %v\n%s", err, data)
	}
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("decode subject: %v", err)
	}
	p := parsed{
		To: msg.Header.Get("To"), From: msg.Header.Get("From"), Subject: subject,
		AutoSubmitted: msg.Header.Get("Auto-Submitted"), Parts: map[string]string{},
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("content type: %v", err)
	}
	if mediaType != "multipart/alternative" {
		t.Fatalf("content type = %q, want multipart/alternative", mediaType)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("next part: %v", err)
		}
		pt, _, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if err != nil {
			t.Fatalf("part content type: %v", err)
		}
		body, err := io.ReadAll(part) // multipart decodes quoted-printable
		if err != nil {
			t.Fatalf("read part: %v", err)
		}
		p.Parts[pt] = strings.ReplaceAll(string(body), "\r\n", "\n")
	}
	return p
}

func invitationMessage() mail.Message {
	link := "https://clubhouse.example.org/auth/login?org_code=org_1a2b3c4d5e6&login_hint=ana%40example.org"
	return mail.Message{
		To:      "ana@example.org",
		Subject: "You've been added to Zürich Rowing Club",
		HTML:    `<p>Olivia added you to Zürich Rowing Club.</p><p><a href="` + link + `">Sign in to Zürich Rowing Club</a></p>`,
		Text:    "Olivia added you to Zürich Rowing Club.\n\nSign in: " + link + "\n",
	}
}

func TestSMTPSendDelivers(t *testing.T) {
	serverTLS, clientTLS := selfSignedTLS(t)
	tests := []struct {
		name     string
		server   serverOptions
		cfg      func(host string, port int) mail.SMTPConfig
		wantUser string
	}{
		{
			name:   "plain relay without TLS",
			server: serverOptions{},
			cfg: func(host string, port int) mail.SMTPConfig {
				return mail.SMTPConfig{Host: host, Port: port, From: "Clubhouse <no-reply@clubhouse.example.org>", TLS: mail.TLSNone}
			},
		},
		{
			name:   "opportunistic without STARTTLS on offer",
			server: serverOptions{},
			cfg: func(host string, port int) mail.SMTPConfig {
				return mail.SMTPConfig{Host: host, Port: port, From: "no-reply@clubhouse.example.org", TLS: mail.TLSOpportunistic}
			},
		},
		{
			name:   "mandatory STARTTLS with login",
			server: serverOptions{TLS: serverTLS, User: "relay", Pass: "s3cret-pass"},
			cfg: func(host string, port int) mail.SMTPConfig {
				return mail.SMTPConfig{
					Host: host, Port: port, From: "Clubhouse <no-reply@clubhouse.example.org>",
					Username: "relay", Password: "s3cret-pass", TLS: mail.TLSMandatory, TLSConfig: clientTLS,
				}
			},
			wantUser: "relay",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startSMTPServer(t, tt.server)
			s, err := mail.NewSMTP(tt.cfg(srv.Host, srv.Port))
			if err != nil {
				t.Fatalf("NewSMTP: %v", err)
			}
			m := invitationMessage()
			if err := s.Send(t.Context(), m); err != nil {
				t.Fatalf("Send: %v", err)
			}

			got := srv.Next(t)
			if want := []string{"ana@example.org"}; len(got.To) != 1 || got.To[0] != want[0] {
				t.Errorf("envelope recipients = %v, want %v", got.To, want)
			}
			if got, want := got.From, "no-reply@clubhouse.example.org"; got != want {
				t.Errorf("envelope sender = %q, want %q", got, want)
			}
			if got, want := got.User, tt.wantUser; got != want {
				t.Errorf("logged in as %q, want %q", got, want)
			}
			p := parseMessage(t, got.Data)
			if got, want := p.To, "<ana@example.org>"; got != want {
				t.Errorf("To header = %q, want %q", got, want)
			}
			if got, want := p.Subject, m.Subject; got != want {
				t.Errorf("Subject = %q, want %q", got, want)
			}
			if !strings.Contains(p.From, "no-reply@clubhouse.example.org") {
				t.Errorf("From header = %q, want the configured sender", p.From)
			}
			if got, want := p.AutoSubmitted, "auto-generated"; got != want {
				t.Errorf("Auto-Submitted = %q, want %q", got, want)
			}
			if got, want := p.Parts["text/plain"], m.Text; got != want {
				t.Errorf("text part = %q, want %q", got, want)
			}
			if got, want := p.Parts["text/html"], m.HTML; got != want {
				t.Errorf("html part = %q, want %q", got, want)
			}
			if got, want := len(p.Parts), 2; got != want {
				t.Errorf("parts = %d, want %d", got, want)
			}
		})
	}
}

func TestSMTPSendFails(t *testing.T) {
	serverTLS, clientTLS := selfSignedTLS(t)
	const password = "s3cret-pass"
	tests := []struct {
		name       string
		server     *serverOptions // nil: nothing listens on the port
		tls        mail.TLSPolicy
		username   string
		password   string
		timeout    time.Duration
		silent     bool // a listener that accepts and never greets
		untrusted  bool // the client does not trust the server's certificate
		wantReason string
	}{
		{
			name:       "recipient rejected",
			server:     &serverOptions{RejectRcpt: &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}},
			tls:        mail.TLSNone,
			wantReason: "the mail server refused the recipient address (SMTP 550)",
		},
		{
			name:       "STARTTLS required but not offered",
			server:     &serverOptions{},
			tls:        mail.TLSMandatory,
			wantReason: "the mail server does not offer a secure connection",
		},
		{
			name:       "untrusted certificate",
			server:     &serverOptions{TLS: serverTLS},
			tls:        mail.TLSMandatory,
			untrusted:  true,
			wantReason: "a secure connection to the mail server could not be made",
		},
		{
			name:       "wrong password",
			server:     &serverOptions{TLS: serverTLS, User: "relay", Pass: "other"},
			tls:        mail.TLSMandatory,
			username:   "relay",
			password:   password,
			wantReason: "the mail server refused the login",
		},
		{
			name:       "nothing listening",
			tls:        mail.TLSNone,
			wantReason: "the mail server could not be reached",
		},
		{
			name:       "server never answers",
			silent:     true,
			tls:        mail.TLSNone,
			timeout:    200 * time.Millisecond,
			wantReason: "the mail server did not answer in time",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host, port := "127.0.0.1", 0
			switch {
			case tt.server != nil:
				srv := startSMTPServer(t, *tt.server)
				port = srv.Port
			case tt.silent:
				port = silentListener(t)
			default:
				port = closedPort(t)
			}
			cfg := mail.SMTPConfig{
				Host: host, Port: port, From: "no-reply@clubhouse.example.org", TLS: tt.tls,
				Username: tt.username, Password: tt.password, Timeout: tt.timeout,
			}
			if !tt.untrusted {
				cfg.TLSConfig = clientTLS
			}
			s, err := mail.NewSMTP(cfg)
			if err != nil {
				t.Fatalf("NewSMTP: %v", err)
			}

			err = s.Send(t.Context(), invitationMessage())
			var se *mail.SendError
			if !errors.As(err, &se) {
				t.Fatalf("Send error = %v, want a *mail.SendError", err)
			}
			if got, want := se.Reason, tt.wantReason; got != want {
				t.Errorf("reason = %q, want %q (error: %v)", got, want, err)
			}
			for _, leak := range []string{"127.0.0.1", strconv.Itoa(port), password, "ana@example.org"} {
				if strings.Contains(se.Reason, leak) {
					t.Errorf("reason %q leaks %q", se.Reason, leak)
				}
			}
			if strings.Contains(err.Error(), password) {
				t.Errorf("error %q contains the password", err)
			}
		})
	}
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	return port
}

// silentListener accepts connections and never says a word.
func silentListener(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return l.Addr().(*net.TCPAddr).Port
}

func TestNewSMTPValidates(t *testing.T) {
	ok := mail.SMTPConfig{Host: "smtp.example.org", From: "no-reply@example.org"}
	tests := []struct {
		name    string
		change  func(c *mail.SMTPConfig)
		wantErr string // "" means valid
	}{
		{"defaults are valid", func(*mail.SMTPConfig) {}, ""},
		{"missing host", func(c *mail.SMTPConfig) { c.Host = "" }, "mail: smtp host is required"},
		{"port out of range", func(c *mail.SMTPConfig) { c.Port = 70000 }, "mail: smtp port 70000 is out of range"},
		{"bad from", func(c *mail.SMTPConfig) { c.From = "not an address" }, `mail: smtp from address "not an address"`},
		{"unknown tls policy", func(c *mail.SMTPConfig) { c.TLS = "sometimes" }, `mail: smtp tls policy "sometimes"`},
		{"password without username", func(c *mail.SMTPConfig) { c.Password = "x" }, "mail: smtp password given without a username"},
		{"negative timeout", func(c *mail.SMTPConfig) { c.Timeout = -time.Second }, "mail: smtp timeout must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ok
			tt.change(&cfg)
			_, err := mail.NewSMTP(cfg)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("NewSMTP: %v, want no error", err)
			case tt.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.wantErr)):
				t.Errorf("NewSMTP error = %v, want one starting %q", err, tt.wantErr)
			}
		})
	}
}

func TestSMTPConfigHidesPassword(t *testing.T) {
	const password = "s3cret-pass"
	cfg := mail.SMTPConfig{Host: "smtp.example.org", Port: 587, Username: "relay", Password: password, From: "no-reply@example.org"}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("mail configured", "smtp", cfg)
	outputs := map[string]string{
		"slog":      buf.String(),
		"%v":        fmt.Sprintf("%v", cfg),
		"%+v":       fmt.Sprintf("%+v", cfg),
		"String":    cfg.String(),
		"%v of ptr": fmt.Sprintf("%v", &cfg),
		"%#v":       fmt.Sprintf("%#v", cfg),
	}
	for name, out := range outputs {
		t.Run(name, func(t *testing.T) {
			if strings.Contains(out, password) {
				t.Errorf("%s output contains the password: %s", name, out)
			}
			if !strings.Contains(out, "relay") {
				t.Errorf("%s output lost the username: %s", name, out)
			}
		})
	}
}
