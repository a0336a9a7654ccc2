package emulator

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/go-jose/go-jose/v4"
)

// keyBits is the size of generated RSA signing keys. Kinde signs with RS256
// over 2048-bit keys.
const keyBits = 2048

// keptKeys is how many signing keys the JWKS publishes after a rotation: the
// new signing key plus the previous ones, so tokens signed before a rotation
// still verify while relying parties refresh their key sets.
const keptKeys = 3

// rsaKey is a parsed signing key with its key id.
type rsaKey struct {
	kid string
	key *rsa.PrivateKey
}

// keyring turns the world's PEM-encoded signing keys into parsed RSA keys. The
// world is the source of truth (so export and import keep the JWKS stable);
// the keyring only caches the parsing, which is costly for RSA.
type keyring struct {
	world *World

	mu     sync.Mutex
	parsed map[string]*rsa.PrivateKey // by PEM text
}

func newKeyring(w *World) *keyring {
	return &keyring{world: w, parsed: make(map[string]*rsa.PrivateKey)}
}

// TODO(E1): consider shipping a fixed dev signing key in seed_default.json:
// every emulator then starts without generating an RSA key (tens of
// milliseconds per test), and a restarted standalone emulator keeps its
// JWKS, so the portal's cached keys and sessions survive the restart.

// keys returns the world's signing keys in the world's order: oldest first,
// newest (the one that signs) last.
// When the world holds none, for example after importing a state without
// keys, it generates one and stores it in the world.
func (k *keyring) keys() ([]rsaKey, error) {
	stored := k.world.SigningKeys()
	if len(stored) == 0 {
		k.mu.Lock()
		stored = k.world.SigningKeys()
		if len(stored) == 0 {
			sk, err := generateSigningKey(k.world)
			if err != nil {
				k.mu.Unlock()
				return nil, err
			}
			stored = []SigningKey{sk}
			k.world.SetSigningKeys(stored)
		}
		k.mu.Unlock()
	}
	out := make([]rsaKey, 0, len(stored))
	for _, sk := range stored {
		priv, err := k.parse(sk.PrivateKeyPEM)
		if err != nil {
			return nil, fmt.Errorf("emulator: signing key %q: %w", sk.KID, err)
		}
		kid := sk.KID
		if kid == "" {
			kid = keyID(&priv.PublicKey)
		}
		out = append(out, rsaKey{kid: kid, key: priv})
	}
	return out, nil
}

// current returns the key that signs new tokens and webhooks.
func (k *keyring) current() (rsaKey, error) {
	ks, err := k.keys()
	if err != nil {
		return rsaKey{}, err
	}
	return ks[len(ks)-1], nil
}

// publicKey finds the verification key for kid.
func (k *keyring) publicKey(kid string) (*rsa.PublicKey, error) {
	ks, err := k.keys()
	if err != nil {
		return nil, err
	}
	for _, key := range ks {
		if key.kid == kid {
			return &key.key.PublicKey, nil
		}
	}
	return nil, fmt.Errorf("emulator: unknown key id %q", kid)
}

func (k *keyring) parse(pemText string) (*rsa.PrivateKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if priv, ok := k.parsed[pemText]; ok {
		return priv, nil
	}
	priv, err := parseRSAPrivateKey(pemText)
	if err != nil {
		return nil, err
	}
	k.parsed[pemText] = priv
	return priv, nil
}

// rotate appends a freshly generated key (which then signs) to the existing
// ones and keeps at most keptKeys keys in total, dropping the oldest.
func (k *keyring) rotate() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	sk, err := generateSigningKey(k.world)
	if err != nil {
		return err
	}
	ks := append(k.world.SigningKeys(), sk)
	if len(ks) > keptKeys {
		ks = ks[len(ks)-keptKeys:]
	}
	k.world.SetSigningKeys(ks)
	return nil
}

// jwks is the public key set in the shape Kinde publishes, the signing key
// first for clients that take the first key.
func (k *keyring) jwks() (jose.JSONWebKeySet, error) {
	ks, err := k.keys()
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(ks))}
	for _, key := range slices.Backward(ks) {
		set.Keys = append(set.Keys, jose.JSONWebKey{
			Key:       &key.key.PublicKey,
			KeyID:     key.kid,
			Algorithm: string(jose.RS256),
			Use:       "sig",
		})
	}
	return set, nil
}

// RotateKeys generates a new signing key. New tokens and webhooks are signed
// with it at once; the previous keys stay in the JWKS (up to three keys in
// all) so tokens signed before the rotation still verify. Tests use it to
// check that relying parties refresh their key sets.
func (e *Emulator) RotateKeys() error {
	return e.oidc.keys.rotate()
}

func generateSigningKey(w *World) (SigningKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return SigningKey{}, fmt.Errorf("emulator: generate signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return SigningKey{}, fmt.Errorf("emulator: encode signing key: %w", err)
	}
	return SigningKey{
		KID:           keyID(&priv.PublicKey),
		PrivateKeyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		CreatedAt:     w.now(),
	}, nil
}

// keyID derives a key id in Kinde's format (16 colon-separated hex bytes)
// from the key's RFC 7638 thumbprint, so it is stable for a given key.
func keyID(pub *rsa.PublicKey) string {
	jwk := jose.JSONWebKey{Key: pub}
	sum, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		// Thumbprint only fails for unsupported key types; an RSA key is fine.
		return "rsa"
	}
	parts := make([]string, 16)
	for i := range parts {
		parts[i] = hex.EncodeToString(sum[i : i+1])
	}
	return strings.Join(parts, ":")
}

func parseRSAPrivateKey(pemText string) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		return nil, errors.New("emulator: no PEM block in signing key")
	}
	if priv, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return priv, nil
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("emulator: parse signing key: %w", err)
	}
	priv, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("emulator: signing key is %T, want RSA", key)
	}
	return priv, nil
}

// handleJWKS serves the public keys at /.well-known/jwks and
// /.well-known/jwks.json.
func (p *oidcProvider) handleJWKS(w http.ResponseWriter, r *http.Request) {
	set, err := p.keys.jwks()
	if err != nil {
		p.serverError(w, r, err)
		return
	}
	p.writeJSON(w, http.StatusOK, set)
}
