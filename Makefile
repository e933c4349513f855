# SPDX-License-Identifier: GPL-2.0-or-later
# fwd -- host firewall manager. Plain GNU make + pkg-config.
#   make                 build fwd and fwctl into build/
#   make SAN=1           the same with ASan+UBSan into build-san/
#   make test            install test deps, unit + integration tests
#   make demo            the three-tier site in namespaces
#   make install DESTDIR=... PREFIX=...   (and make uninstall)
#   make deb             Debian package into build/deb/, checked by lintian
#   make fuzz FUZZ_SECONDS=N

PREFIX ?= /usr/local
DESTDIR ?=
SBINDIR ?= $(PREFIX)/sbin
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share
# systemd reads units, sysusers.d and tmpfiles.d from /usr/local/lib too.
LIBDIR_SYSTEMD ?= $(PREFIX)/lib
UNITDIR ?= $(LIBDIR_SYSTEMD)/systemd/system
SYSUSERSDIR ?= $(LIBDIR_SYSTEMD)/sysusers.d
TMPFILESDIR ?= $(LIBDIR_SYSTEMD)/tmpfiles.d
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
VERSION := 0.1.0

CC ?= cc
PKG_CONFIG ?= pkg-config
PKGS_FWD := libnftnl libmnl libcjson
PKGS_CTL := libcjson

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Werror
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 $(WARN) -Icommon -DFW_VERSION='"$(VERSION)"' \
	$(shell $(PKG_CONFIG) --cflags $(PKGS_FWD) 2>/dev/null)

ifeq ($(SAN),1)
BUILD := build-san
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
else
BUILD := build
endif

LIBS_FWD := $(shell $(PKG_CONFIG) --libs $(PKGS_FWD) 2>/dev/null)
LIBS_CTL := $(shell $(PKG_CONFIG) --libs $(PKGS_CTL) 2>/dev/null) -lm

COMMON_SRC := $(wildcard common/*.c)
FWD_SRC := $(wildcard fwd/*.c)
FWCTL_SRC := $(wildcard fwctl/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)

COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/obj/%.o)
FWD_OBJ := $(FWD_SRC:%.c=$(BUILD)/obj/%.o)
FWCTL_OBJ := $(FWCTL_SRC:%.c=$(BUILD)/obj/%.o)
# fwd objects that unit tests may link (everything but main).
FWD_LIB_OBJ := $(filter-out $(BUILD)/obj/fwd/main.o,$(FWD_OBJ))
# fwctl objects that unit tests may link (everything but main).
FWCTL_LIB_OBJ := $(filter-out $(BUILD)/obj/fwctl/main.o,$(FWCTL_OBJ))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

all: $(BUILD)/fwd $(BUILD)/fwctl

$(BUILD)/obj/%.o: %.c $(wildcard common/*.h fwd/*.h fwctl/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Ifwd -c -o $@ $<

$(BUILD)/libcommon.a: $(COMMON_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/libfwd.a: $(FWD_LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/libfwctl.a: $(FWCTL_LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/fwd: $(BUILD)/obj/fwd/main.o $(BUILD)/libfwd.a $(BUILD)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_FWD) -lm

$(BUILD)/fwctl: $(FWCTL_OBJ) $(BUILD)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_CTL)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/t.h $(BUILD)/libfwd.a \
		$(BUILD)/libfwctl.a $(BUILD)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Ifwd -Ifwctl -Itests/unit $(LDFLAGS) -o $@ $< \
		$(BUILD)/libfwd.a $(BUILD)/libfwctl.a $(BUILD)/libcommon.a \
		$(LIBS_FWD) -lm

# The suite's traffic tool (runs only inside test namespaces).
$(BUILD)/fwprobe: tests/tools/fwprobe.c
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<

# Compiles with planner options (differential test, benchmark).
$(BUILD)/fwplan: tests/tools/fwplan.c $(BUILD)/libcommon.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libcommon.a $(LIBS_CTL)

unit: $(UNIT_BIN) all $(BUILD)/fwprobe $(BUILD)/fwplan

# The benchmark (bench/run.sh); BENCH_QUICK=1 for a smoke run.
$(BUILD)/tm: bench/tm.c
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<

bench: all $(BUILD)/tm $(BUILD)/fwplan
	tests/deps.sh bench
	sh bench/run.sh

# Fuzzing: clang + libFuzzer, parser and protocol decoder.
FUZZ_SECONDS ?= 5
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)
build-fuzz/%: tests/fuzz/%.c $(COMMON_SRC) $(wildcard common/*.h)
	@mkdir -p build-fuzz
	clang -g -O1 -fsanitize=fuzzer,address,undefined -Icommon \
		$(shell $(PKG_CONFIG) --cflags libcjson) -o $@ $< $(COMMON_SRC) \
		$(LIBS_CTL)
fuzz-build: $(FUZZ_BIN)
fuzz: fuzz-build
	tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BIN)

test:
	tests/deps.sh
	$(MAKE) unit
	$(MAKE) SAN=1 unit
	$(MAKE) fuzz-build
	tests/run.sh

# fwd under valgrind through the daemon's integration suites.
valgrind: all $(BUILD)/fwprobe
	FWD_WRAP="valgrind -q --leak-check=full --show-leak-kinds=definite" \
		sh -c 'for t in safety observe hostile; do \
			sh tests/integration/$$t.sh || exit 1; done' | tee /tmp/fwd-valgrind.log
	! grep -q '^not ok' /tmp/fwd-valgrind.log

demo:
	tests/deps.sh
	$(MAKE) all $(BUILD)/fwprobe
	tests/demo.sh

# Everything goes under $(DESTDIR); the unit is filled in with the paths.
INSTALL_FILES := $(SBINDIR)/fwd $(BINDIR)/fwctl \
	$(MANDIR)/man8/fwd.8 $(MANDIR)/man8/fwctl.8 $(MANDIR)/man5/fwd-policy.5 \
	$(BASHCOMPDIR)/fwctl $(UNITDIR)/fwd.service $(SYSUSERSDIR)/fwd.conf \
	$(TMPFILESDIR)/fwd.conf $(DATADIR)/fwd/schema.json
install: all
	install -D -m 0755 $(BUILD)/fwd $(DESTDIR)$(SBINDIR)/fwd
	install -D -m 0755 $(BUILD)/fwctl $(DESTDIR)$(BINDIR)/fwctl
	install -D -m 0644 doc/fwd.8 $(DESTDIR)$(MANDIR)/man8/fwd.8
	install -D -m 0644 doc/fwctl.8 $(DESTDIR)$(MANDIR)/man8/fwctl.8
	install -D -m 0644 doc/fwd-policy.5 $(DESTDIR)$(MANDIR)/man5/fwd-policy.5
	install -D -m 0644 packaging/bash-completion/fwctl \
		$(DESTDIR)$(BASHCOMPDIR)/fwctl
	install -d -m 0755 $(DESTDIR)$(UNITDIR)
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@BINDIR@|$(BINDIR)|g' \
		packaging/systemd/fwd.service.in >$(DESTDIR)$(UNITDIR)/fwd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/fwd.service
	install -D -m 0644 packaging/systemd/fwd.sysusers \
		$(DESTDIR)$(SYSUSERSDIR)/fwd.conf
	install -D -m 0644 packaging/systemd/fwd.tmpfiles \
		$(DESTDIR)$(TMPFILESDIR)/fwd.conf
	install -D -m 0644 rules/schema.json $(DESTDIR)$(DATADIR)/fwd/schema.json

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALL_FILES))
	-rmdir $(DESTDIR)$(DATADIR)/fwd 2>/dev/null

# The Debian package (packaging/debian), built out of tree in build/deb/;
# fails on any lintian error. tests/deb.sh runs it within make test.
deb:
	packaging/deb.sh $(VERSION)

clean:
	rm -rf build build-san build-fuzz

.PHONY: all unit test demo install uninstall deb clean fuzz \
	fuzz-build valgrind
