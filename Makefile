# iaxcrypt build and test entry points. `make test` is what CI runs.
GO       ?= go
VERSION  ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
# Without cgo: platform.DropPrivileges changes the capabilities of every
# thread after set-up, which Go allows only in binaries without cgo (a cgo
# build, as go install makes, re-executes itself to reach the same state).
TOOLBIN  := $(CURDIR)/.cache/bin
# The Go release every target builds and tests with (fetched from the Go
# module proxy when the machine's own Go is older): go1.26.8 has standard
# library vulnerabilities in net/http and crypto/x509 that govulncheck
# finds reachable through the metrics and profiling servers.
export GOTOOLCHAIN ?= go1.26.10

.PHONY: all build install man test test-short lint fuzz bench soak darwin asterisk clean demo

all: build

build:
	CGO_ENABLED=0 $(GO) build -ldflags '$(LDFLAGS)' -o iaxcrypt ./cmd/iaxcrypt

# Installs the daemon, its man page, its bash completion and its systemd
# unit (DESTDIR for packaging). Keeps an existing /etc/default/iaxcrypt.
PREFIX ?= /usr/local
install: build
	install -D -m 0755 iaxcrypt $(DESTDIR)$(PREFIX)/sbin/iaxcrypt
	install -D -m 0644 docs/iaxcrypt.8 $(DESTDIR)$(PREFIX)/share/man/man8/iaxcrypt.8
	./iaxcrypt completion bash > iaxcrypt.bash
	install -D -m 0644 iaxcrypt.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/iaxcrypt
	rm -f iaxcrypt.bash
	install -D -m 0644 dist/iaxcrypt.service $(DESTDIR)/etc/systemd/system/iaxcrypt.service
	test -e $(DESTDIR)/etc/default/iaxcrypt || install -D -m 0644 dist/iaxcrypt.default $(DESTDIR)/etc/default/iaxcrypt

# The man page, generated from the command table of cmd/iaxcrypt (a test
# fails when docs/iaxcrypt.8 differs from it).
man:
	$(GO) run ./cmd/iaxcrypt manpage > docs/iaxcrypt.8.tmp
	mv docs/iaxcrypt.8.tmp docs/iaxcrypt.8

# The README's quick start: two hosts in network namespaces, a daemon and
# an iaxmodem phone on each, one encrypted call, then everything removed.
# Installs what it runs (Debian packages, as .ci/run does) and runs the demo
# as root (with sudo when needed).
DEMO_PACKAGES := iaxmodem efax tshark iproute2
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
demo: build
	scripts/install-packages.sh $(DEMO_PACKAGES)
	$(SUDO) ./iaxcrypt demo

# Every test: unit tests, and, when run as root, the namespace tests with real
# iaxmodem/efax peers, Asterisk PBXs and tshark. Also builds for macOS so
# darwin code stays compilable. -p 1: the fax tests run real-time audio and
# must not share the two CPUs with another package's fax test.
test: darwin asterisk
	$(GO) vet ./...
	$(GO) test -count=1 -p 1 -timeout 40m ./...

# Unit tests only (no root needed; the namespace tests skip themselves).
test-short:
	$(GO) test -count=1 -short ./...

# Builds Asterisk from ../shared/vendor/asterisk-22.10.1.tar.gz (or
# $IAXCRYPT_ASTERISK_TARBALL) once per machine into a cache keyed by the
# tarball's sha256, for the Asterisk end-to-end tests; without the tarball
# it says so and does nothing, and those tests skip.
asterisk:
	scripts/asterisk-build.sh

# macOS: build, vet, and compile (not run: no Mac here) the tests of every
# package with darwin code, among them rtmsg_darwin_test.go, which compares
# the routing messages with golang.org/x/net/route on a Mac.
DARWIN_TEST_PKGS := ./route/ ./platform/ ./tun/ ./device/ ./daemon/ ./doctor/ ./cmd/iaxcrypt/
darwin:
	GOOS=darwin GOARCH=arm64 $(GO) build ./...
	GOOS=darwin GOARCH=arm64 $(GO) vet ./...
	@for p in $(DARWIN_TEST_PKGS); do GOOS=darwin GOARCH=arm64 $(GO) test -c -o /dev/null $$p || exit 1; done

# govulncheck's database: this machine reaches the Go module proxy but not
# vuln.go.dev, so the database is built from the golang.org/x/vulndb module
# (its OSV files, indexed by its own indexdb tool). Bump VULNDB to refresh.
VULNDB   ?= v0.0.0-20261105234957-e22db6528018
VULNDIR  := $(CURDIR)/.cache/vulndb-$(VULNDB)

lint: $(VULNDIR)/index/db.json
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...
	GOBIN=$(TOOLBIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2
	GOBIN=$(TOOLBIN) $(GO) install golang.org/x/vuln/cmd/govulncheck@v1.9.0
	$(TOOLBIN)/staticcheck ./...
	$(TOOLBIN)/govulncheck -db file://$(VULNDIR) ./...

$(VULNDIR)/index/db.json:
	$(GO) mod download golang.org/x/vulndb@$(VULNDB)
	cd /tmp && GOFLAGS=-mod=mod $(GO) run golang.org/x/vulndb/cmd/indexdb@$(VULNDB) \
	  -vulns $$($(GO) env GOMODCACHE)/golang.org/x/vulndb@$(VULNDB)/data/osv -out $(VULNDIR)

# Short fuzzing runs of every fuzz target (FUZZTIME per target).
FUZZTIME ?= 20s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

# Micro-benchmarks, then (as root) the side-by-side data-path benchmark:
# the same call load through the direct path, two daemons with --policy
# off, two encrypting daemons and two wireguard-go peers, ramping calls;
# it writes docs/benchmarks.md (between its markers), docs/benchmarks.svg
# and docs/benchmarks.json. It takes /tmp/iaxcrypt-e2e.lock for one path at
# a time. BENCHFLAGS go to it, e.g. BENCHFLAGS='-levels 100,500 -hold 5s'.
BENCHFLAGS ?=
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./iax/ ./crypt/ ./engine/ ./device/ ./internal/load/ ./internal/bench/
	@if [ "$$(id -u)" -ne 0 ]; then echo "make bench: the data-path benchmark needs root (network namespaces); skipped"; else \
	  $(GO) test -tags netbench -count=1 -timeout 90m -run '^TestBenchPaths$$' -v ./internal/bench/ \
	    -args -doc $(CURDIR)/docs/benchmarks.md $(BENCHFLAGS); fi

# The soak (not in CI): 300 calls through two encrypting daemons with 1%
# loss, reordering and duplication between them for SOAK (30 minutes),
# checking that the daemons' memory and goroutines stay flat; it writes its
# samples into docs/benchmarks.md. Holds the team lock for the whole run.
SOAK ?= 30m
soak:
	flock /tmp/iaxcrypt-e2e.lock $(GO) test -count=1 -timeout 90m -run '^TestSoak$$' -v ./e2e/ -args -soak $(SOAK)

clean:
	rm -f iaxcrypt iaxcrypt.bash docs/iaxcrypt.8.tmp
	rm -rf .cache
