# iaxcrypt build and test entry points. `make test` is what CI runs.
GO       ?= go
VERSION  ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
# Without cgo: platform.DropPrivileges changes the capabilities of every
# thread, which Go allows only in binaries without cgo.
TOOLBIN  := $(CURDIR)/.cache/bin

.PHONY: all build test test-short lint fuzz bench darwin clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -ldflags '$(LDFLAGS)' -o iaxcrypt ./cmd/iaxcrypt

# Every test: unit tests, and, when run as root, the namespace tests with real
# iaxmodem/efax peers and tshark. Also builds for macOS so darwin code stays
# compilable. -p 1: the fax tests run real-time audio and must not share the
# two CPUs with another package's fax test.
test: darwin
	$(GO) vet ./...
	$(GO) test -count=1 -p 1 -timeout 20m ./...

# Unit tests only (no root needed; the namespace tests skip themselves).
test-short:
	$(GO) test -count=1 -short ./...

darwin:
	GOOS=darwin GOARCH=arm64 $(GO) build ./...
	GOOS=darwin GOARCH=arm64 $(GO) vet ./...

lint:
	$(GO) vet ./...
	GOBIN=$(TOOLBIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@latest
	GOBIN=$(TOOLBIN) $(GO) install golang.org/x/vuln/cmd/govulncheck@latest
	$(TOOLBIN)/staticcheck ./...
	$(TOOLBIN)/govulncheck ./...

# Short fuzzing runs of every fuzz target (FUZZTIME per target).
FUZZTIME ?= 20s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./iax/ ./crypt/ ./engine/ ./device/

clean:
	rm -f iaxcrypt
	rm -rf .cache
