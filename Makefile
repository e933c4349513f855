# SPDX-License-Identifier: GPL-2.0-or-later
# fwd -- host firewall manager. Plain GNU make + pkg-config.
#   make                 build fwd and fwctl into build/
#   make SAN=1           the same with ASan+UBSan into build-san/
#   make test            install test deps, unit + integration tests
#   make demo            the three-tier site in namespaces
#   make install DESTDIR=... PREFIX=...
#   make fuzz FUZZ_SECONDS=N

PREFIX ?= /usr/local
DESTDIR ?=
SBINDIR ?= $(PREFIX)/sbin
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
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

unit: $(UNIT_BIN) all $(BUILD)/fwprobe

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

demo:
	tests/deps.sh
	$(MAKE) all
	tests/demo.sh

install: all
	install -D -m 0755 $(BUILD)/fwd $(DESTDIR)$(SBINDIR)/fwd
	install -D -m 0755 $(BUILD)/fwctl $(DESTDIR)$(BINDIR)/fwctl

clean:
	rm -rf build build-san build-fuzz

.PHONY: all unit test demo install clean fuzz fuzz-build
