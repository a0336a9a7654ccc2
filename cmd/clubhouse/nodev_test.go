//go:build !dev

package main

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestRunRefusesDevWithoutTheDevBuild(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
	}{
		{"flag", []string{"-dev"}, nil},
		{"environment", nil, map[string]string{"CLUBHOUSE_DEV": "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(t.Context(), append(tt.args, "-addr", "127.0.0.1:0"), envOf(tt.env), io.Discard)
			if !errors.Is(err, errNoDevBuild) {
				t.Fatalf("err = %v, want %v", err, errNoDevBuild)
			}
			if !strings.Contains(err.Error(), "make run") {
				t.Errorf("err = %q does not say how to get a development build", err)
			}
		})
	}
}
