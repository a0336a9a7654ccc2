package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"os"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// TLSPolicy says whether the SMTP connection must be upgraded with STARTTLS.
type TLSPolicy string

// TLS policies for SMTPConfig.TLS.
const (
	// TLSMandatory refuses to send unless the server offers STARTTLS and the
	// handshake succeeds. It is the default.
	TLSMandatory TLSPolicy = "mandatory"
	// TLSOpportunistic upgrades with STARTTLS when the server offers it and
	// sends in the clear otherwise.
	TLSOpportunistic TLSPolicy = "opportunistic"
	// TLSNone never upgrades. Only for a relay on the same host or network.
	TLSNone TLSPolicy = "none"
)

// Defaults for SMTPConfig.
const (
	DefaultSMTPPort    = 587
	DefaultSMTPTimeout = 10 * time.Second
)

// SMTPConfig says how to reach the SMTP server that sends invitations.
type SMTPConfig struct {
	Host string
	Port int // DefaultSMTPPort when zero
	// Username and Password log in to the server when Username is set. The
	// strongest mechanism the server offers is chosen; plain-text mechanisms
	// are only used over TLS.
	Username string
	Password string
	From     string        // e.g. "Clubhouse <no-reply@example.org>"
	TLS      TLSPolicy     // TLSMandatory when empty
	Timeout  time.Duration // per connection; DefaultSMTPTimeout when zero
	// TLSConfig, when set, is used for STARTTLS (for a private CA, say). Its
	// ServerName defaults to Host.
	TLSConfig *tls.Config
}

// String describes the configuration without the password, so that
// printing it by mistake leaks nothing.
func (c SMTPConfig) String() string {
	return fmt.Sprintf("smtp{host=%s port=%d username=%q password_set=%t from=%q tls=%s timeout=%s}",
		c.Host, c.Port, c.Username, c.Password != "", c.From, c.TLS, c.Timeout)
}

// LogValue logs the configuration without the password.
func (c SMTPConfig) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("host", c.Host),
		slog.Int("port", c.Port),
		slog.String("username", c.Username),
		slog.Bool("password_set", c.Password != ""),
		slog.String("from", c.From),
		slog.String("tls", string(c.TLS)),
		slog.Duration("timeout", c.Timeout),
	)
}

// SMTP sends mail through an SMTP server (submission with STARTTLS by
// default). It is safe for concurrent use: every Send opens its own
// connection, which suits the trickle of invitation emails.
type SMTP struct {
	host string
	from string
	opts []gomail.Option
}

var _ Sender = (*SMTP)(nil)

// NewSMTP checks cfg and returns a sender for it. It does not connect.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	if cfg.Host == "" {
		return nil, errors.New("mail: smtp host is required")
	}
	if cfg.Port == 0 {
		cfg.Port = DefaultSMTPPort
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, fmt.Errorf("mail: smtp port %d is out of range", cfg.Port)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultSMTPTimeout
	}
	if cfg.Timeout < 0 {
		return nil, errors.New("mail: smtp timeout must be positive")
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("mail: smtp from address %q: %w", cfg.From, err)
	}
	if cfg.Password != "" && cfg.Username == "" {
		return nil, errors.New("mail: smtp password given without a username")
	}
	var policy gomail.TLSPolicy
	switch cfg.TLS {
	case TLSMandatory, "":
		policy = gomail.TLSMandatory
	case TLSOpportunistic:
		policy = gomail.TLSOpportunistic
	case TLSNone:
		policy = gomail.NoTLS
	default:
		return nil, fmt.Errorf("mail: smtp tls policy %q is not one of mandatory, opportunistic, none", cfg.TLS)
	}
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLSConfig != nil {
		tlsConfig = cfg.TLSConfig.Clone()
		tlsConfig.MinVersion = max(tlsConfig.MinVersion, tls.VersionTLS12)
	}
	if tlsConfig.ServerName == "" {
		tlsConfig.ServerName = cfg.Host
	}

	opts := []gomail.Option{
		gomail.WithPort(cfg.Port),
		gomail.WithTimeout(cfg.Timeout),
		gomail.WithTLSPolicy(policy),
		gomail.WithTLSConfig(tlsConfig),
	}
	if cfg.Username != "" {
		opts = append(opts,
			gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(cfg.Username),
			gomail.WithPassword(cfg.Password),
		)
	}
	s := &SMTP{host: cfg.Host, from: from.String(), opts: opts}
	// Build a client once so that option errors surface now, not on the
	// first invitation.
	if _, err := s.client(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *SMTP) client() (*gomail.Client, error) {
	c, err := gomail.NewClient(s.host, s.opts...)
	if err != nil {
		return nil, fmt.Errorf("mail: smtp client: %w", err)
	}
	return c, nil
}

// Send delivers m over one SMTP connection: a multipart/alternative message
// with the plain text first and the HTML as the preferred part. Errors are
// *SendError values whose Reason says what went wrong without naming the
// server.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	msg := gomail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return &SendError{Reason: "the sender address is not valid", Err: err}
	}
	if err := msg.To(m.To); err != nil {
		return &SendError{Reason: "the recipient address is not valid", Err: err}
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageID()
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	switch {
	case m.HTML == "":
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	case m.Text == "":
		msg.SetBodyString(gomail.TypeTextHTML, m.HTML)
	default:
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}

	c, err := s.client()
	if err != nil {
		return &SendError{Reason: "the mail client is misconfigured", Err: err}
	}
	conn, err := c.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return &SendError{Reason: connectReason(err), Err: fmt.Errorf("smtp connect: %w", err)}
	}
	sendErr := c.SendWithSMTPClient(conn, msg)
	// A failed QUIT is ignored: once DATA was accepted the server has the
	// message, and reporting a failure would make the worker send it twice.
	_ = c.CloseWithSMTPClient(conn)
	if sendErr != nil {
		return &SendError{Reason: sendReason(sendErr), Err: fmt.Errorf("smtp send: %w", sendErr)}
	}
	return nil
}

// connectReason names, safely, what failed while connecting, upgrading to
// TLS or logging in.
func connectReason(err error) string {
	var (
		netErr     net.Error
		opErr      *net.OpError
		recordErr  tls.RecordHeaderError
		verifyErr  *tls.CertificateVerificationError
		unknownCA  x509.UnknownAuthorityError
		hostErr    x509.HostnameError
		invalidErr x509.CertificateInvalidError
		alertErr   tls.AlertError
	)
	msg := err.Error()
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &netErr) && netErr.Timeout():
		return "the mail server did not answer in time"
	case errors.As(err, &recordErr), errors.As(err, &verifyErr), errors.As(err, &unknownCA),
		errors.As(err, &hostErr), errors.As(err, &invalidErr), errors.As(err, &alertErr):
		return "a secure connection to the mail server could not be made"
	case strings.Contains(msg, "STARTTLS"):
		return "the mail server does not offer a secure connection"
	case strings.Contains(msg, "SMTP AUTH"), errors.Is(err, gomail.ErrNoSupportedAuthDiscovered):
		return "the mail server refused the login"
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return "the mail server could not be reached"
	case errors.Is(err, context.Canceled):
		return "sending was cancelled"
	}
	return "the mail server could not be reached"
}

// sendReason names, safely, which step of the delivery the server refused.
// The SMTP reply code is kept: it tells an operator a lot and names nothing.
func sendReason(err error) string {
	var se *gomail.SendError
	if !errors.As(err, &se) {
		return "the mail server did not accept the email"
	}
	var reason string
	switch se.Reason {
	case gomail.ErrGetSender, gomail.ErrSMTPMailFrom:
		reason = "the mail server refused the sender address"
	case gomail.ErrGetRcpts, gomail.ErrSMTPRcptTo:
		reason = "the mail server refused the recipient address"
	case gomail.ErrConnCheck, gomail.ErrSMTPReset:
		reason = "the connection to the mail server was lost"
	default:
		reason = "the mail server did not accept the email"
	}
	if code := se.ErrorCode(); code != 0 {
		reason = fmt.Sprintf("%s (SMTP %d)", reason, code)
	}
	return reason
}

// GoString keeps %#v from printing the password too.
func (c SMTPConfig) GoString() string { return c.String() }
