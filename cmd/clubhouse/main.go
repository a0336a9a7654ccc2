// Command clubhouse is the Clubhouse portal: the admin portal for clubs whose
// people live in Kinde. With -dev (what `make run` uses) it also starts a
// local Kinde emulator seeded with demo clubs, and keeps mail in a
// development mailbox; only the development build (-tags dev, dev.go)
// has the emulator, so the production binary refuses -dev.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
