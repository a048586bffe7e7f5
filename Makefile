# gs — build, test, run and install.  GNU make.
#
#   make            build everything into $(BUILD) (default build/)
#   make test       build with ASan+UBSan into build/san and run the tests
#   make run        start the whole stack on loopback (see README.md)
#   make bench      run the benchmarks and print figures
#   make install    PREFIX=/usr/local DESTDIR=

VERSION	= 0.1.0
PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
LIBDIR	?= $(PREFIX)/lib
INCDIR	?= $(PREFIX)/include
MANDIR	?= $(PREFIX)/share/man
# gs-sim finds installed games at <its directory>/../lib/gs/games.
GAMEDIR	= $(LIBDIR)/gs/games
BUILD	?= build

CC	?= cc
CFLAGS	?= -O2 -g
WARN	= -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes \
	  -Wmissing-prototypes -Wformat=2 -Wpointer-arith -Wvla \
	  -Wnull-dereference -Wimplicit-fallthrough -Wno-unused-parameter
ifdef CI
WARN	+= -Werror
endif
ifdef SAN
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all \
	   -fno-omit-frame-pointer
CFLAGS	= -O1 -g
endif
# jansson, wolfSSL, sqlite3, ngtcp2 and GnuTLS have pkg-config files;
# libev and nng have none.
PKGS	= jansson wolfssl sqlite3 libngtcp2 libngtcp2_crypto_gnutls gnutls
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS := $(shell pkg-config --libs $(PKGS))
CPPFLAGS_GS = -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L \
	  -DGS_VERSION='"$(VERSION)"' -Ilib -Iinclude \
	  $(if $(SAN),-DGS_NO_POOLS) \
	  $(PKG_CFLAGS)
LIBS	= -lwebsockets -lev -lnng -lmsgpackc $(PKG_LIBS) -lpthread -lm

ALL_CFLAGS = $(CPPFLAGS_GS) $(CPPFLAGS) $(WARN) $(CFLAGS) $(SANFLAGS) -MMD -MP
ALL_LDFLAGS = $(SANFLAGS) $(LDFLAGS)

PROGS	= gs-gateway gs-sim gs-persist gs-ctl gs-loadgen
LIB_SRC	= $(wildcard lib/*.c)
LIB_OBJ	= $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
LIBGS	= $(BUILD)/libgs.a
BINS	= $(PROGS:%=$(BUILD)/bin/%)
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNITS	= $(UNIT_SRC:tests/unit/%.c=$(BUILD)/test/%)
MAN	= $(wildcard man/*.[1-9])
# Game plugins: games/<name>/*.c -> lib/gs/games/<name>.so, beside bin/
# as installed; the test plugins of tests/games/ stay in test/games/.
GAME_NAMES = $(notdir $(patsubst %/,%,$(wildcard games/*/)))
GAMES	= $(GAME_NAMES:%=$(BUILD)/lib/gs/games/%.so)
TGAME_SRC = $(wildcard tests/games/*.c)
TGAMES	= $(TGAME_SRC:tests/games/%.c=$(BUILD)/test/games/%.so)

all: $(BINS) $(GAMES)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBGS): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $(LIB_OBJ)

# Each program is every .c file in cmd/<prog>/ linked with libgs.
.SECONDEXPANSION:
$(BUILD)/bin/%: $$(addprefix $(BUILD)/obj/,$$(addsuffix .o,$$(basename $$(wildcard cmd/$$*/*.c)))) $(LIBGS)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

# A plugin is built on its own: it sees gs/game.h and the C library.
$(BUILD)/lib/gs/games/%.so: $$(wildcard games/$$*/*.c) include/gs/game.h
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) $(SANFLAGS) -Iinclude -fPIC -shared \
		-o $@ $(filter %.c,$^) -lm

$(BUILD)/test/games/%.so: tests/games/%.c include/gs/game.h
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) $(SANFLAGS) -Iinclude -fPIC -shared \
		-o $@ $< -lm

$(BUILD)/test/%: $(BUILD)/obj/tests/unit/%.o $(LIBGS)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LIBGS) $(LIBS)

# A unit test of a program's own module links that module's object.
$(BUILD)/test/test_impair: $(BUILD)/obj/cmd/gs-loadgen/impair.o
$(BUILD)/test/test_pwhash: $(BUILD)/obj/cmd/gs-persist/pwhash.o
$(BUILD)/test/test_rank: $(BUILD)/obj/cmd/gs-persist/rank.o
$(BUILD)/test/test_lgws: $(BUILD)/obj/cmd/gs-loadgen/ws.o
$(BUILD)/test/test_gwqueue: $(BUILD)/obj/cmd/gs-gateway/queue.o
$(BUILD)/test/test_breaker: $(BUILD)/obj/cmd/gs-gateway/breaker.o
$(BUILD)/test/test_gwclient: $(addprefix $(BUILD)/obj/cmd/gs-gateway/,\
	client.o queue.o route.o ops.o api.o api_lb.o api_player.o api_social.o \
	breaker.o)
$(BUILD)/test/test_inputq: $(BUILD)/obj/cmd/gs-sim/inputq.o
$(BUILD)/test/test_ents: $(addprefix $(BUILD)/obj/cmd/gs-sim/,\
	ents.o schema.o)
$(BUILD)/test/test_repl: $(addprefix $(BUILD)/obj/cmd/gs-sim/,\
	repl.o ents.o)
$(BUILD)/test/test_tickclock: $(BUILD)/obj/cmd/gs-sim/tickclock.o
$(BUILD)/test/test_sched: $(addprefix $(BUILD)/obj/cmd/gs-sim/,\
	sched.o tickclock.o)

# Test tools: tests/tools/<name>.c, linked with libgs, for the
# integration tests (a forger of gateway batches, say).
TOOL_SRC = $(wildcard tests/tools/*.c)
TOOLS	= $(TOOL_SRC:tests/tools/%.c=$(BUILD)/test/tools/%)
$(BUILD)/test/tools/%: $(BUILD)/obj/tests/tools/%.o $(LIBGS)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LIBGS) $(LIBS)

units: $(UNITS) $(TGAMES) $(TOOLS)

BENCH_SRC = $(wildcard tests/bench/bench_*.c)
BENCHES	= $(BENCH_SRC:tests/bench/%.c=$(BUILD)/bench/%)
$(BUILD)/bench/%: $(BUILD)/obj/tests/bench/%.o $(LIBGS)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LIBGS) $(LIBS)
$(BUILD)/bench/bench_repl: $(addprefix $(BUILD)/obj/cmd/gs-sim/,\
	repl.o ents.o)
$(BUILD)/bench/bench_rank: $(BUILD)/obj/cmd/gs-persist/rank.o

# The tests always run the sanitizer build, from a recursive make so that
# plain and sanitized objects never mix.
test: deps-test
	$(MAKE) BUILD=build/san SAN=1 check

check: all units
	tests/run $(BUILD)

lint-man:
	mandoc -Tlint -W warning $(MAN)

bench: deps-test
	$(MAKE) all $(BENCHES)
	tests/bench/run $(BUILD)

# libFuzzer harnesses for the decoders (clang; not part of make test).
FUZZ_SRC = $(wildcard tests/fuzz/fuzz_*.c)
fuzz: $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
build/fuzz/%: tests/fuzz/%.c $(LIB_SRC)
	@mkdir -p $(@D)
	clang $(CPPFLAGS_GS) -g -O1 -fsanitize=fuzzer,address,undefined \
		-o $@ $< $(LIB_SRC) $(LIBS)

# In a terminal, scripts/run runs as a job of a job-control shell: the
# job gets the terminal, so Ctrl-C signals it and its daemons but not
# make, which would re-raise SIGINT on itself after its child ended and
# exit 130 however cleanly everything stopped.
run: deps-run
	$(MAKE) all
	@if [ -t 0 ]; then bash -m -c 'scripts/run "$$1"; exit $$?' run \
	    '$(BUILD)'; else scripts/run '$(BUILD)'; fi

deps-run:
	scripts/install-deps run
deps-test:
	scripts/install-deps test

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(GAMEDIR) \
		$(DESTDIR)$(INCDIR)/gs $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man7 \
		$(DESTDIR)$(MANDIR)/man8
	install -m 755 $(BINS) $(DESTDIR)$(BINDIR)
	install -m 644 $(GAMES) $(DESTDIR)$(GAMEDIR)
	install -m 644 include/gs/game.h $(DESTDIR)$(INCDIR)/gs
	for m in $(MAN); do \
		s=$${m##*.}; install -m 644 $$m $(DESTDIR)$(MANDIR)/man$$s/; \
	done

uninstall:
	for p in $(PROGS); do rm -f $(DESTDIR)$(BINDIR)/$$p; done
	for g in $(GAME_NAMES); do rm -f $(DESTDIR)$(GAMEDIR)/$$g.so; done
	rm -f $(DESTDIR)$(INCDIR)/gs/game.h
	for m in $(MAN); do \
		s=$${m##*.}; rm -f $(DESTDIR)$(MANDIR)/man$$s/$${m##*/}; \
	done

clean:
	rm -rf build run

.PHONY: all units test check lint-man bench fuzz run deps-run deps-test \
	install uninstall clean
.PRECIOUS: $(BUILD)/obj/%.o

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
