# kxen build.  `make help` lists the targets a newcomer needs.
CC ?= gcc
BUILD ?= build
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wshadow \
	  -Wstrict-prototypes -Wmissing-prototypes -D_GNU_SOURCE -D__XEN_TOOLS__ -Isrc -MMD -MP
LDLIBS_COMPRESS := -lz -llz4 -llzma -lzstd -lbz2

objs = $(patsubst src/%.c,$(BUILD)/obj/%.o,$(1))

COMMON_SRCS := $(wildcard src/common/*.c)
# The domain process's parts that unit tests link without KVM or vCPUs.
DOMCORE_SRCS := $(wildcard src/domain/boot/*.c) src/domain/guest_mem.c src/domain/gnttab.c \
	src/domain/elfcore.c
# Backend code that unit tests link: the pure ring protocols (no I/O) and
# the block storage engines (io_uring, qemu-nbd); linked into kxen-domain
# through libbackends.
BECORE_SRCS := $(wildcard src/backends/*_ring.c src/backends/blk_storage*.c)
DOMAIN_SRCS := $(filter-out $(DOMCORE_SRCS) $(BECORE_SRCS),$(wildcard src/domain/*.c src/backends/*.c))
XLCFG_SRCS := $(wildcard src/xl/config.c src/xl/diskspec.c src/xl/vifspec.c src/xl/devnodes.c src/xl/dominfo.c \
	src/xl/toprow.c)
XL_SRCS := $(filter-out $(XLCFG_SRCS),$(wildcard src/xl/*.c))
KXEND_SRCS := $(wildcard src/kxend/*.c)
XS_SRCS := $(wildcard src/xenstore/*.c)
HOST_TOOLS := $(patsubst tests/host/%.c,$(BUILD)/host-tests/%,$(wildcard tests/host/*.c))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
GUEST_TOOLS := $(patsubst tests/guest/tools/%.c,$(BUILD)/guest-tools/%,$(wildcard tests/guest/tools/*.c))

LIBCOMMON := $(BUILD)/lib/libcommon.a
LIBDOMCORE := $(BUILD)/lib/libdomcore.a
LIBXLCFG := $(BUILD)/lib/libxlcfg.a
LIBBECORE := $(BUILD)/lib/libbackends.a
LIBXS := $(BUILD)/lib/libkxs.a
BINS := $(BUILD)/bin/kxen-domain $(BUILD)/bin/kxl $(BUILD)/bin/kxend
FUZZ_CC ?= clang-14
FUZZ_BINS := $(BUILD)/fuzz/xs_fuzz

.PHONY: all deps images testhost run test unit-test guest-test host-test fuzz \
	testhost-shell bench help clean format
all: $(BINS) $(BUILD)/bin/kxen-kvm-check $(UNIT_BINS) $(GUEST_TOOLS) $(HOST_TOOLS)

help:
	@echo "kxen make targets:"
	@echo "  make run            install Debian packages, build everything, boot examples/demo.cfg"
	@echo "                      (inside the test host when this machine's KVM cannot run guests)"
	@echo "  make test           the whole suite: unit tests, host tests, then guest tests in the test host;"
	@echo "                      last line 'N passed, N failed'"
	@echo "  make all            build binaries into $(BUILD)/bin and unit tests into $(BUILD)/tests"
	@echo "                      (kxend, the xenstore daemon: $(BUILD)/bin/kxend -F --socket S --state-dir D)"
	@echo "  make deps           install the pinned Debian packages (idempotent)"
	@echo "  make images         build the default guest image into $(BUILD)/images"
	@echo "  make testhost       build the test host (KVM with Xen support) into $(BUILD)/testhost"
	@echo "  make testhost-shell interactive shell inside the test host"
	@echo "  make unit-test      unit tests only;  make guest-test  guest tests only"
	@echo "  make host-test      host tests only: kxend (the xenstore daemon) against"
	@echo "                      xenstore-utils, libxenstore, a fake guest ring; fuzz smoke"
	@echo "  make fuzz           build the xenstore libFuzzer target ($(BUILD)/fuzz/xs_fuzz)"
	@echo "  make bench          benchmarks (not part of make test), see docs/performance.md"
	@echo "  make clean          remove $(BUILD)"

deps:
	@scripts/install-deps.sh

$(BUILD)/obj/%.o: src/%.c Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(LIBCOMMON): $(call objs,$(COMMON_SRCS))
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(LIBDOMCORE): $(call objs,$(DOMCORE_SRCS))
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(LIBXLCFG): $(call objs,$(XLCFG_SRCS))
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

# The xenstore: pure store, wire layer, journal codec (+ the client helper).
$(LIBXS): $(call objs,$(XS_SRCS))
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(LIBBECORE): $(call objs,$(BECORE_SRCS))
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(BUILD)/bin/kxen-domain: $(call objs,$(DOMAIN_SRCS)) $(LIBBECORE) $(LIBDOMCORE) $(LIBXLCFG) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_COMPRESS) -luring -lnbd -lxenstore -lpthread -lutil

# kxl top draws with ncurses (libncurses-dev).
$(BUILD)/bin/kxl: $(call objs,$(XL_SRCS)) $(LIBXLCFG) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lxenstore -lncurses -lpthread

$(BUILD)/bin/kxend: $(call objs,$(KXEND_SRCS)) $(LIBXS) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^

# Checks /dev/kvm for the Xen capabilities kxen needs (test host init, detect.sh).
$(BUILD)/bin/kxen-kvm-check: $(call objs,src/tools/kvm_xen_check.c)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^

$(BUILD)/tests/%: tests/unit/%.c $(LIBBECORE) $(LIBDOMCORE) $(LIBXLCFG) $(LIBXS) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(LIBBECORE) $(LIBDOMCORE) $(LIBXLCFG) $(LIBXS) \
		$(LIBCOMMON) -lcmocka $(LDLIBS_COMPRESS) -luring -lnbd -lpthread

# Host test programs (tests/host/*.c): libxenstore clients and the fake guest.
$(BUILD)/host-tests/%: tests/host/%.c $(LIBXS) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LIBXS) $(LIBCOMMON) -lxenstore -lpthread

# libFuzzer target over the wire decoder, the store and the journal codec,
# built from the sources with clang's fuzzer and sanitizers.
fuzz: $(FUZZ_BINS)

$(BUILD)/fuzz/xs_fuzz: fuzz/xs_fuzz.c $(XS_SRCS) $(wildcard src/xenstore/*.h) Makefile
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -g -O1 -std=gnu11 -D_GNU_SOURCE -D__XEN_TOOLS__ -Isrc \
		-fsanitize=fuzzer,address,undefined -o $@ fuzz/xs_fuzz.c $(XS_SRCS)

# Small static programs that run inside guests (hypercall probes and such).
$(BUILD)/guest-tools/%: tests/guest/tools/%.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -static -o $@ $<

images:
	@scripts/build-guest-image.sh $(BUILD)

testhost:
	@scripts/testhost/build.sh $(BUILD)

run: deps all images testhost
	@scripts/run-demo.sh $(BUILD)

unit-test: all
	@tests/run.sh --unit $(BUILD)

host-test: all fuzz
	@tests/run.sh --host $(BUILD)

guest-test: all images testhost
	@tests/run.sh --guest $(BUILD)

test: deps all fuzz images testhost
	@tests/run.sh --all $(BUILD)

testhost-shell: all images testhost
	@scripts/testhost/run.sh --interactive $(BUILD)

bench: all images testhost
	@bench/run-all.sh $(BUILD)

format:
	clang-format -i $$(git ls-files 'src/*.c' 'src/*.h' 'tests/*.c' 'fuzz/*.c')

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
