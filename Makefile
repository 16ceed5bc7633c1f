# Set-up and everyday commands. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# Programs from Debian's packages, as command:package. The demo scans with nmap; the tests
# also render the HTML reports in Chromium and print them to PDF; `make test-later` moves the
# clock with faketime.
DEMO_TOOLS  := nmap:nmap
TEST_TOOLS  := nmap:nmap chromium:chromium
LATER_TOOLS := faketime:faketime

.PHONY: demo test test-later lint check clean tools-demo tools-test tools-later

# Installs the missing packages with apt-get when run as root; otherwise stops, before
# anything runs, with the one command that installs them.
define ensure_tools
	@missing=""; commands=""; \
	for pair in $(1); do \
	  command -v "$${pair%%:*}" >/dev/null 2>&1 && continue; \
	  commands="$$commands $${pair%%:*}"; \
	  case " $$missing " in *" $${pair##*:} "*) ;; *) missing="$$missing $${pair##*:}";; esac; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "not found:$$commands; installing$$missing with apt-get"; \
	    log=$$(mktemp); \
	    { apt-get update -qq && \
	      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$$missing; } >"$$log" 2>&1 || \
	    { cat "$$log" >&2; rm -f "$$log"; \
	      echo "could not install$$missing (for$$commands)" >&2; exit 1; }; \
	    rm -f "$$log"; \
	  elif command -v apt-get >/dev/null 2>&1; then \
	    echo "not found:$$commands. Install with: sudo apt-get install -y$$missing" >&2; exit 1; \
	  else \
	    echo "not found:$$commands. Install it with your system's package manager." >&2; exit 1; \
	  fi; \
	fi
endef

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

tools-demo:
	$(call ensure_tools,$(DEMO_TOOLS))

tools-test:
	$(call ensure_tools,$(TEST_TOOLS))

tools-later:
	$(call ensure_tools,$(LATER_TOOLS))

demo: tools-demo $(STAMP)
	$(BIN)/cyberstd demo --out out/demo

test: tools-test $(STAMP)
	$(BIN)/python -m pytest -q

# The whole suite one year ahead: a verdict, sample or certificate that ages fails today.
test-later: tools-test tools-later $(STAMP)
	faketime -f '+365d' $(BIN)/python -m pytest -q -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check cyberstd tests
	$(BIN)/ruff format --check cyberstd
	$(BIN)/mypy --strict cyberstd
	$(BIN)/lint-imports

check: test lint

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
