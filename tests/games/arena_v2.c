/*
 * The arena game under another version string: a second build to
 * reload into (tests/integration/reload.sh).
 */
#define ARENA_VERSION	"2-test"
#include "../../games/arena/arena.c"
