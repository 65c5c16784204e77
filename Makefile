# mxguard - see README.md. Quiet unless V=1; everything is built in build/.
.DELETE_ON_ERROR:
.SUFFIXES:
.SECONDARY:

OUT      ?= build
CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
ARCH_INC := /usr/include/$(shell gcc -dumpmachine)

CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -D_GNU_SOURCE \
            -Iheaders -I$(OUT)
# The parts of user/, each seeing only the headers below it: lib (code that
# never sees the agent), agent (mxguardd's services), cmd (the commands the
# agent runs for the CLI), cli (the mxguard program: lib only).
INC_lib   := -Iuser/lib
INC_agent := -Iuser/lib -Iuser/agent
INC_cmd   := -Iuser/lib -Iuser/agent -Iuser/cmd
INC_cli   := -Iuser/lib
INC_tests := -Iuser/lib -Iuser/agent -Iuser/cmd
LDLIBS   += -lxdp -lbpf -lelf -lz -lspf2 -lresolv -lpthread
# json-c: rspamd's pushes (lib/rspamd.c); the agent and what tests it link it, the CLI does not.
JSON_LIBS := $(shell pkg-config --libs json-c 2>/dev/null || echo -ljson-c)
# libcurl: CrowdSec's Local API (agent/crowdsecd.c), the agent's only HTTP client.
JSON_LIBS += $(shell pkg-config --libs libcurl 2>/dev/null || echo -lcurl)
BPF_CFLAGS := -O2 -g -target bpf -mcpu=v3 -Wall -Werror -Iheaders -Ibpf -I$(ARCH_INC)

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

BPF_OBJS  := $(OUT)/mxguard.bpf.o $(OUT)/conn.bpf.o $(OUT)/bare.bpf.o $(OUT)/floor.bpf.o
SKELS     := $(BPF_OBJS:.bpf.o=.skel.h)
LIB_SRCS   := $(wildcard user/lib/*.c)
AGENT_SRCS := $(filter-out user/agent/mxguardd.c,$(wildcard user/agent/*.c)) $(wildcard user/cmd/*.c)
LIB_OBJS   := $(LIB_SRCS:user/lib/%.c=$(OUT)/lib/%.o)
AGENT_OBJS := $(AGENT_SRCS:user/%.c=$(OUT)/%.o)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(OUT)/tests/%)
BPFT_SRCS := $(wildcard tests/bpf/test_*.c)
BPFT_BINS := $(BPFT_SRCS:tests/bpf/%.c=$(OUT)/tests/%)

FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS  := $(FUZZ_NAMES:%=$(OUT)/fuzz/fuzz_%)
# What the harnesses reach, built with the sanitizers by clang.
# (Not the data plane's lifecycle, agent.c, conn.c and serve.c: no harness reaches it.)
NOT_FUZZED := user/agent/agent.c user/agent/conn.c user/agent/serve.c
FUZZ_LIB   := $(LIB_SRCS) $(filter-out $(NOT_FUZZED),$(AGENT_SRCS))
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
              -std=gnu11 -D_GNU_SOURCE -Iheaders $(INC_tests) -I$(OUT)
FUZZ_SECONDS ?= 60

# The unit tests again under AddressSanitizer and UndefinedBehaviorSanitizer.
SAN_BINS := $(UNIT_SRCS:tests/unit/%.c=$(OUT)/san/%)
SAN_FLAGS := -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined \
             -fno-omit-frame-pointer -std=gnu11 -D_GNU_SOURCE -Iheaders $(INC_tests) -I$(OUT)

.PHONY: all deps test unit-test bpf-test e2e-test bench demo clean fuzz install
all: $(OUT)/mxguardd $(OUT)/mxguard

deps:
	$(Q)scripts/deps.sh

$(OUT) $(OUT)/tests:
	$(Q)mkdir -p $@

$(OUT)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) headers/mxguard.h | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst .,_,$(notdir $(basename $<))) > $@

USER_HDRS := $(wildcard user/*/*.h) headers/mxguard.h

$(OUT)/lib/%.o: user/lib/%.c $(USER_HDRS) $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(INC_lib) -c $< -o $@

# main wires the commands into the agent's control server: it alone sees both.
$(OUT)/agent/mxguardd.o: user/agent/mxguardd.c $(USER_HDRS) $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(INC_cmd) -c $< -o $@

$(OUT)/agent/%.o: user/agent/%.c $(USER_HDRS) $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(INC_agent) -c $< -o $@

$(OUT)/cmd/%.o: user/cmd/%.c $(USER_HDRS) $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(INC_cmd) -c $< -o $@

$(OUT)/cli/%.o: user/cli/%.c $(USER_HDRS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(INC_cli) -c $< -o $@

$(OUT)/libmx.a: $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)ar rcs $@ $^

$(OUT)/libmxagent.a: $(AGENT_OBJS)
	$(call msg,AR,$@)
	$(Q)ar rcs $@ $^

# The agent's libraries: its services and commands, then lib.
AGENT_LIBS := $(OUT)/libmxagent.a $(OUT)/libmx.a

$(OUT)/mxguardd: $(OUT)/agent/mxguardd.o $(AGENT_LIBS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) $(JSON_LIBS) -o $@

# The CLI links lib only: help, the control protocol, JSON.
$(OUT)/mxguard: $(OUT)/cli/mxguard.o $(OUT)/libmx.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(OUT)/tests/%: tests/unit/%.c $(AGENT_LIBS) | $(OUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(INC_tests) $^ -lcmocka $(LDLIBS) $(JSON_LIBS) -o $@

$(OUT)/tests/%: tests/bpf/%.c $(AGENT_LIBS) $(SKELS) | $(OUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(INC_tests) -Itests/bpf $< $(AGENT_LIBS) -lcmocka $(LDLIBS) $(JSON_LIBS) -o $@

$(OUT)/tests/connhold: tests/tools/connhold.c | $(OUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@

$(OUT)/tests/synflood: tests/tools/synflood.c tests/tools/rawpkt.h | $(OUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@

$(OUT)/tests/lateack: tests/tools/lateack.c tests/tools/rawpkt.h | $(OUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@

$(OUT)/tests/connrate: tests/bench/connrate.c | $(OUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@

$(OUT)/tests/linerate: tests/bench/linerate.c $(SKELS) | $(OUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/bpf $< $(LDLIBS) -o $@

$(OUT)/tests/bench_xdp: tests/bench/bench_xdp.c $(AGENT_LIBS) $(SKELS) | $(OUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(INC_tests) -Itests/bpf $< $(AGENT_LIBS) $(LDLIBS) $(JSON_LIBS) -o $@

$(OUT)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB) $(SKELS)
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_FLAGS) $< $(FUZZ_LIB) $(LDLIBS) $(JSON_LIBS) -o $@

$(OUT)/san/%: tests/unit/%.c $(LIB_SRCS) $(AGENT_SRCS) $(SKELS)
	$(call msg,SAN-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(SAN_FLAGS) $< $(FUZZ_LIB) \
		-lcmocka $(LDLIBS) $(JSON_LIBS) -o $@

# Each harness for FUZZ_SECONDS, growing its corpus in build/fuzz/corpus.
fuzz: deps $(FUZZ_BINS)
	$(Q)for f in $(FUZZ_NAMES); do \
		mkdir -p $(OUT)/fuzz/corpus/$$f; \
		echo "== fuzz_$$f for $(FUZZ_SECONDS) s"; \
		$(OUT)/fuzz/fuzz_$$f -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
			$(OUT)/fuzz/corpus/$$f tests/fuzz/corpus/$$f || exit 1; \
	done

# The README's test command: installs what it needs, builds, runs all.
test: deps all $(UNIT_BINS) $(BPFT_BINS) $(OUT)/tests/connhold $(OUT)/tests/connrate $(OUT)/tests/synflood \
      $(OUT)/tests/lateack $(FUZZ_BINS) $(SAN_BINS)
	$(Q)tests/run.sh

bench: deps all $(OUT)/tests/bench_xdp $(OUT)/tests/connrate $(OUT)/tests/linerate $(OUT)/tests/synflood
	$(Q)scripts/bench.sh

demo: deps all
	$(Q)scripts/demo.sh $(IFACE)

PREFIX  ?= /usr
DESTDIR ?=
# Binaries, man pages, bash completion, the systemd unit, and the example
# settings file (only where none exists: an operator's file is never replaced).
install: all
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -D -m 0755 $(OUT)/mxguardd $(DESTDIR)$(PREFIX)/sbin/mxguardd
	$(Q)install -D -m 0755 $(OUT)/mxguard $(DESTDIR)$(PREFIX)/sbin/mxguard
	$(Q)install -D -m 0644 docs/mxguard.8 $(DESTDIR)$(PREFIX)/share/man/man8/mxguard.8
	$(Q)install -D -m 0644 docs/mxguardd.8 $(DESTDIR)$(PREFIX)/share/man/man8/mxguardd.8
	$(Q)install -D -m 0644 docs/mxguard.bash-completion \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/mxguard
	$(Q)ln -sf mxguard $(DESTDIR)$(PREFIX)/share/bash-completion/completions/mxguardd
	$(Q)install -D -m 0644 docs/mxguardd.service $(DESTDIR)/lib/systemd/system/mxguardd.service
	$(Q)[ -e $(DESTDIR)/etc/mxguard/mxguard.conf ] || \
		install -D -m 0644 docs/mxguard.conf $(DESTDIR)/etc/mxguard/mxguard.conf
	$(Q)install -D -m 0644 docs/traps.example $(DESTDIR)$(PREFIX)/share/doc/mxguard/traps.example

clean:
	$(call msg,CLEAN,$(OUT))
	$(Q)rm -rf $(OUT)
