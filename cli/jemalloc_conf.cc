// jemalloc's settings for the programs that link it (ordo and the replay benchmark), read by
// jemalloc when the program starts; MALLOC_CONF in the environment still overrides them.
//
// percpu_arena: one arena per CPU instead of one per thread. A replay allocates each history
// record on its reader thread and frees it on a lane thread; with an arena per thread every
// such free goes back to the reader's arena under its lock, which the reader itself is
// taking to allocate. One arena per CPU keeps that traffic mostly local: a million orders on
// two lanes take about 8% less CPU (measured with MALLOC_CONF, see docs/performance.md).
extern "C" {
// NOLINTNEXTLINE: the name and type jemalloc looks for.
extern const char* const malloc_conf;
const char* const malloc_conf = "percpu_arena:percpu";
}
