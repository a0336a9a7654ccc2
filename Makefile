# Clubhouse: the two commands a newcomer needs are `make run` and `make test`.
GO        ?= go
PKGS      := ./...
FUZZTIME  ?= 15s
# DEV is the development build: cmd/clubhouse's dev.go (the embedded Kinde emulator behind -dev)
# and the tests that run it. A plain `go build ./cmd/clubhouse` has neither and refuses -dev.
DEV       := -tags dev
# PRODPKGS are the packages whose files differ between the two builds: they are checked in both.
PRODPKGS  := ./cmd/clubhouse

.PHONY: run test generate check-generated lint unit race soak fuzz bench emulator

## run: the portal with the embedded Kinde emulator and SQLite in ./data, seeded with demo clubs
## (a development build, on loopback only)
run:
	$(GO) run $(DEV) ./cmd/clubhouse -dev

## emulator: the local Kinde on its own (prints its issuer, apps and people)
emulator:
	$(GO) run ./cmd/kinde-emulator

## test: everything CI checks: generated code, formatting, vet, staticcheck, all tests, then the
## concurrent packages again under the race detector
test: check-generated lint unit race

generate:
	$(GO) tool templ generate

## check-generated: templ output committed and up to date
check-generated:
	@$(GO) tool templ generate >/dev/null 2>&1
	@git diff --exit-code -- '*_templ.go' || { echo "templ generate changed files: run 'make generate' and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- '*_templ.go')" || { echo "untracked generated files:"; git status --porcelain -- '*_templ.go'; exit 1; }

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); test -z "$$out" || { echo "gofmt needed:"; echo "$$out"; exit 1; }
	$(GO) vet $(DEV) $(PKGS)
	$(GO) vet $(PRODPKGS)
	$(GO) tool staticcheck $(DEV) $(PKGS)
	$(GO) tool staticcheck $(PRODPKGS)

unit:
	$(GO) test -count=1 -timeout 20m $(DEV) $(PKGS)
	$(GO) test -count=1 -timeout 5m $(PRODPKGS)

## race: every package where goroutines meet (domain, store, jobs, mail, sessions, HTTP, the Kinde
## client's caches and the emulator's webhook deliveries, the schedule tests) under -race
## (none of them has files of the development build only, so they need no $(DEV))
race:
	$(GO) test -race -count=1 -timeout 20m ./internal/club ./internal/store ./internal/jobs ./internal/mail ./internal/session ./internal/reliability ./internal/kinde/... ./internal/metrics ./web

## soak: the schedule tests over many more seeded schedules (10,000 on each database by default);
## a failure prints its seed, replayed with CLUBHOUSE_SEED=<seed> CLUBHOUSE_SCHEDULES=1
SCHEDULES ?= 10000
soak:
	CLUBHOUSE_SCHEDULES=$(SCHEDULES) $(GO) test -count=1 -timeout 60m -v -run 'TestSchedules' ./internal/reliability

## fuzz: a short run of every fuzz target (the corpus lives in testdata/fuzz)
fuzz:
	$(GO) test ./internal/club -run '^$$' -fuzz FuzzAddMemberInput -fuzztime $(FUZZTIME)
	$(GO) test ./internal/club -run '^$$' -fuzz FuzzValidateClubName -fuzztime $(FUZZTIME)
	$(GO) test ./internal/club -run '^$$' -fuzz FuzzParseImport -fuzztime $(FUZZTIME)
	$(GO) test ./web -run '^$$' -fuzz FuzzParseAddMemberForm -fuzztime $(FUZZTIME)
	$(GO) test ./internal/kinde/emulator -run '^$$' -fuzz FuzzDecode -fuzztime $(FUZZTIME)

## bench: the benchmarks behind docs/PERFORMANCE.md
bench:
	$(GO) test -run '^$$' -bench . -benchmem $(DEV) ./...
