# veza.coturn: `make deploy` (local site, proven relay) and `make test` (the suite).
SHELL := /bin/bash
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
COLLECTION_LINK := .collections/ansible_collections/veza/coturn
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: deploy test bench test-prerequisites venv collection lint sanity unit integration molecule clean-local

## deploy: virtualenv + pinned deps, then playbooks/site.yml on inventory/local
deploy: venv collection
	$(BIN)/ansible-playbook playbooks/site.yml -i inventory/local

## test: lint, unit tests, integration tests on the real daemon, molecule
test: venv collection test-prerequisites lint unit molecule integration

## bench: every benchmark under benchmarks/, side by side in one run; the
## report (table and plots) goes to benchmarks/results/. Deploys the local
## site first: the benchmarks measure against it.
bench: deploy test-prerequisites
	$(BIN)/python benchmarks/run.py

# coturn's client tools (its server kept stopped), openssl, shellcheck and
# the network tools the tests call: tests/prerequisites.yml says why.
test-prerequisites: venv collection
	$(BIN)/ansible-playbook tests/prerequisites.yml -i localhost,

venv: $(VENV)/.installed

# A fresh Debian 12 has python3 without the venv module.
$(VENV)/.installed: requirements.txt
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	touch $@

# The repository is the collection; Ansible finds it through this link.
collection: $(COLLECTION_LINK)
$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn ../../.. $@

lint: venv collection sanity
	$(BIN)/black --check --quiet .
	$(BIN)/yamllint --strict .
	$(BIN)/ansible-lint --profile production
	$(BIN)/python tests/check_argument_specs.py

# ansible-test sanity, offline, on a copy of the checkout in an
# ansible_collections tree (tests/sanity/run_sanity.py says why).
sanity: venv collection test-prerequisites
	$(BIN)/python tests/sanity/run_sanity.py

unit: venv collection
	$(BIN)/python -m pytest -q tests/unit

integration: venv collection
	VEZA_INTEGRATION=1 VEZA_TEST_IMAGE=debian-12-coturn VEZA_TEST_BRIDGE=vzbr0 \
	  $(BIN)/python -m pytest -q tests/integration

# Every scenario under molecule/ (a folder with a molecule.yml; molecule/shared
# holds what they share, .config/molecule/config.yml their base config), each
# with its working files in this checkout (molecule's default,
# ~/.ansible/tmp/molecule.<hash of the folder name>, is shared by every
# checkout that has the same folder name).
MOLECULE_SCENARIOS ?= $(sort $(notdir $(patsubst %/molecule.yml,%,$(wildcard molecule/*/molecule.yml))))
# A failing scenario's output is long and its cause far above the recap: the
# failed tasks are printed again at the end.
molecule: venv collection
	@mkdir -p .cache/molecule
	@for s in $(MOLECULE_SCENARIOS); do \
	  echo "== molecule scenario $$s"; \
	  MOLECULE_EPHEMERAL_DIRECTORY=$(CURDIR)/.cache/molecule/$$s $(BIN)/molecule test -s $$s \
	    2>&1 | tee .cache/molecule/$$s.log; \
	  if [ "$${PIPESTATUS[0]}" != 0 ]; then \
	    echo "== molecule scenario $$s failed; its failed tasks:"; \
	    grep -a -B 3 -A 12 -E 'fatal: |FAILED!|failed: ' .cache/molecule/$$s.log | tail -n 80; \
	    exit 1; \
	  fi; \
	done

## clean-local: remove what `make deploy` created (containers, simulated internet)
clean-local: venv collection
	$(BIN)/ansible-playbook playbooks/teardown.yml -i inventory/local
