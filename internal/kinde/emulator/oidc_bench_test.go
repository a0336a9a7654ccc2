package emulator_test

import (
	"testing"

	"golang.org/x/oauth2"
)

// BenchmarkSignInRoundTrip measures a whole in-process sign-in: authorize,
// render the login page, pick a person, redirect with a code, exchange it
// (PKCE + client secret) and verify the ID token with go-oidc.
func BenchmarkSignInRoundTrip(b *testing.B) {
	h := startEmulator(b)
	ctx := b.Context()
	p := h.provider(b)
	cfg := h.oauthConfig(p)
	verifier := h.idVerifier(p)
	b.ReportAllocs()
	for b.Loop() {
		f := newFlow()
		br := newBrowser(b)
		out := h.signInAs(br, f.authURL(cfg), "olivia@example.org")
		tok, err := cfg.Exchange(ctx, codeFrom(b, out, f.state), oauth2.VerifierOption(f.verifier))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := verifier.Verify(ctx, tok.Extra("id_token").(string)); err != nil {
			b.Fatal(err)
		}
	}
}
