// Tests for agent/symbols. Most cases run the fixture programs of
// tests/testprogs/symbols, which print runtime addresses of known functions
// and their own /proc/self/maps; resolving those addresses checks the whole
// path (maps parsing, file offset -> ELF vaddr, symbol tables, demangling)
// under ASLR without trusting nm.
#include <elf.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "symbols/demangle.h"
#include "symbols/elf_cache.h"
#include "symbols/elf_file.h"
#include "symbols/elf_symbols.h"
#include "symbols/perf_map.h"
#include "symbols/proc_maps.h"
#include "symbols/process_file.h"
#include "symbols/symbolizer.h"

namespace waitscope {
namespace {

const std::string kFixtureDir = SYMBOLS_FIXTURE_DIR;
// Larger than any possible pid_max (2^22), so never a live process.
constexpr uint32_t kFakePid = 0x7ffffff0;

std::string FixturePath(const std::string& name) {
  return kFixtureDir + "/" + name;
}

struct FixtureRun {
  uint32_t pid = 0;
  std::map<std::string, uint64_t> funcs;  // address of the function itself
  std::map<std::string, uint64_t> rets;   // a return address inside the function
  ProcessMaps maps;
};

FixtureRun RunFixture(const std::string& name) {
  FixtureRun run;
  FILE* pipe = popen(FixturePath(name).c_str(), "r");
  if (pipe == nullptr) {
    ADD_FAILURE() << "cannot run " << name;
    return run;
  }
  std::string output;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) output.append(buf, n);
  EXPECT_EQ(pclose(pipe), 0) << name;

  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line) && line != "maps") {
    std::istringstream fields(line);
    std::string kind, key, value;
    fields >> kind >> key;
    if (kind == "pid") {
      run.pid = static_cast<uint32_t>(std::stoul(key));
      continue;
    }
    fields >> value;
    (kind == "func" ? run.funcs : run.rets)[key] = std::stoull(value, nullptr, 16);
  }
  std::string maps_text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  run.maps = ProcessMaps::Parse(maps_text);
  EXPECT_GT(run.pid, 0u) << name;
  EXPECT_FALSE(run.maps.mappings().empty()) << name;
  return run;
}

uint64_t InodeOf(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_ino;
}

// ---------------------------------------------------------------- proc maps

constexpr char kMapsSample[] =
    "55d0c8a9e000-55d0c8aa0000 r--p 00000000 08:01 1234                       /usr/bin/cat\n"
    "55d0c8aa0000-55d0c8aa5000 r-xp 00002000 08:01 1234                       /usr/bin/cat\n"
    "55d0c9000000-55d0c9021000 rw-p 00000000 00:00 0                          [heap]\n"
    "7f0000000000-7f0000001000 rwxp 00000000 00:00 0 \n"
    "7f0000001000-7f0000002000 r-xp 00001000 08:01 99                         /tmp/my lib.so "
    "(deleted)\n"
    "this line is garbage\n"
    "7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0                          [vdso]\n";

TEST(ProcessMapsTest, ParsesFileBackedMapping) {
  ProcessMaps maps = ProcessMaps::Parse(kMapsSample);
  ASSERT_EQ(maps.mappings().size(), 6u);
  const Mapping& text = maps.mappings()[1];
  EXPECT_EQ(text.start, 0x55d0c8aa0000u);
  EXPECT_EQ(text.end, 0x55d0c8aa5000u);
  EXPECT_EQ(text.file_offset, 0x2000u);
  EXPECT_EQ(text.inode, 1234u);
  EXPECT_EQ(text.path, "/usr/bin/cat");
  EXPECT_TRUE(text.executable);
  EXPECT_FALSE(text.deleted);
  EXPECT_FALSE(maps.mappings()[0].executable);
}

TEST(ProcessMapsTest, HandlesAnonymousPseudoAndDeleted) {
  ProcessMaps maps = ProcessMaps::Parse(kMapsSample);
  const Mapping* heap = maps.Find(0x55d0c9000010);
  ASSERT_NE(heap, nullptr);
  EXPECT_EQ(heap->path, "[heap]");
  EXPECT_TRUE(heap->is_pseudo());
  EXPECT_FALSE(heap->is_anonymous());

  const Mapping* anon = maps.Find(0x7f0000000800);
  ASSERT_NE(anon, nullptr);
  EXPECT_EQ(anon->path, "");
  EXPECT_TRUE(anon->is_anonymous());
  EXPECT_TRUE(anon->executable);

  const Mapping* deleted = maps.Find(0x7f0000001000);
  ASSERT_NE(deleted, nullptr);
  EXPECT_EQ(deleted->path, "/tmp/my lib.so");
  EXPECT_TRUE(deleted->deleted);
  EXPECT_EQ(deleted->inode, 99u);

  const Mapping* vdso = maps.Find(0x7ffd00001fff);
  ASSERT_NE(vdso, nullptr);
  EXPECT_EQ(vdso->path, "[vdso]");
}

TEST(ProcessMapsTest, FindRespectsBoundsAndGaps) {
  ProcessMaps maps = ProcessMaps::Parse(kMapsSample);
  EXPECT_EQ(maps.Find(0x55d0c8a9e000 - 1), nullptr);
  ASSERT_NE(maps.Find(0x55d0c8a9e000), nullptr);
  EXPECT_EQ(maps.Find(0x55d0c8a9e000)->file_offset, 0u);
  // end is exclusive: the next mapping starts exactly there.
  EXPECT_EQ(maps.Find(0x55d0c8aa0000)->file_offset, 0x2000u);
  EXPECT_EQ(maps.Find(0x55d0c8aa5000), nullptr);  // gap before [heap]
  EXPECT_EQ(maps.Find(0x7ffd00002000), nullptr);  // past the last mapping
  EXPECT_EQ(maps.Find(0), nullptr);
}

TEST(ProcessMapsTest, SortsSyntheticInput) {
  ProcessMaps maps({Mapping{.start = 0x3000, .end = 0x4000, .path = "b"},
                    Mapping{.start = 0x1000, .end = 0x2000, .path = "a"}});
  ASSERT_NE(maps.Find(0x1800), nullptr);
  EXPECT_EQ(maps.Find(0x1800)->path, "a");
  EXPECT_EQ(maps.Find(0x3800)->path, "b");
  EXPECT_EQ(maps.Find(0x2800), nullptr);
}

TEST(ProcessMapsTest, ReadsOwnProcess) {
  Result<ProcessMaps> maps = ProcessMaps::Read(static_cast<uint32_t>(getpid()));
  ASSERT_TRUE(maps.ok()) << maps.error().message;
  const Mapping* m = maps->Find(reinterpret_cast<uint64_t>(&RunFixture));
  ASSERT_NE(m, nullptr);
  EXPECT_TRUE(m->executable);
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  ASSERT_GT(n, 0);
  EXPECT_EQ(m->path, std::string(exe, static_cast<size_t>(n)));
}

TEST(ProcessMapsTest, ReadOfMissingProcessFailsClearly) {
  Result<ProcessMaps> maps = ProcessMaps::Read(kFakePid);
  ASSERT_FALSE(maps.ok());
  EXPECT_NE(maps.error().message.find("is gone"), std::string::npos) << maps.error().message;
}

// ---------------------------------------------------------------- demangle

TEST(DemangleTest, DemanglesAndKeepsWhatItCannot) {
  EXPECT_EQ(Demangle("_ZN3foo3barEi"), "foo::bar(int)");
  EXPECT_EQ(Demangle("main"), "main");
  EXPECT_EQ(Demangle("i"), "i");  // would demangle as a type
  EXPECT_EQ(Demangle("_Z_not_valid"), "_Z_not_valid");
}

// ---------------------------------------------------------------- ELF

TEST(ElfSymbolsTest, KnowsObjectTypes) {
  Result<ElfSymbols> pie = ElfSymbols::Load(FixturePath("symbols_fixture_fp"));
  Result<ElfSymbols> nopie = ElfSymbols::Load(FixturePath("symbols_fixture_nopie"));
  Result<ElfSymbols> lib = ElfSymbols::Load(FixturePath("libsymbols_fixture_lib.so"));
  ASSERT_TRUE(pie.ok()) << pie.error().message;
  ASSERT_TRUE(nopie.ok()) << nopie.error().message;
  ASSERT_TRUE(lib.ok()) << lib.error().message;
  EXPECT_EQ(pie->type(), ET_DYN);
  EXPECT_EQ(nopie->type(), ET_EXEC);
  EXPECT_EQ(lib->type(), ET_DYN);
  bool has_exec_segment = false;
  for (const LoadSegment& s : nopie->segments()) has_exec_segment |= s.executable;
  EXPECT_TRUE(has_exec_segment);
}

TEST(ElfSymbolsTest, ReadsBuildIdThatSurvivesStripping) {
  Result<ElfSymbols> full = ElfSymbols::Load(FixturePath("symbols_fixture_rdynamic"));
  Result<ElfSymbols> stripped = ElfSymbols::Load(FixturePath("symbols_fixture_stripped"));
  Result<ElfSymbols> other = ElfSymbols::Load(FixturePath("symbols_fixture_nopie"));
  ASSERT_TRUE(full.ok() && stripped.ok() && other.ok());
  EXPECT_FALSE(full->build_id().empty());
  EXPECT_EQ(full->build_id().size() % 2, 0u);
  EXPECT_EQ(full->build_id().find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(stripped->build_id(), full->build_id());
  EXPECT_NE(other->build_id(), full->build_id());
  EXPECT_LT(stripped->symbol_count(), full->symbol_count());
}

// A traced process's user may truncate a file it mapped while waitscope
// reads its symbols. Through an mmap that was a SIGBUS in the agent (root).
TEST(ElfSymbolsTest, AFileTruncatedAfterOpeningFailsCleanly) {
  const std::string copy = "/tmp/ws-truncated-elf-" + std::to_string(getpid());
  {
    std::ifstream in(FixturePath("symbols_fixture_rdynamic"), std::ios::binary);
    std::ofstream out(copy, std::ios::binary);
    out << in.rdbuf();
  }
  Result<ElfFile> file = ElfFile::Open(copy);
  ASSERT_TRUE(file.ok()) << file.error().message;
  ASSERT_EQ(truncate(copy.c_str(), 64), 0);  // the ELF header stays, the rest goes
  Result<ElfSymbols> symbols = ElfSymbols::Load(*file);
  std::remove(copy.c_str());
  if (symbols.ok()) {
    EXPECT_EQ(symbols->symbol_count(), 0u);  // nothing left to read
  }
}

TEST(ElfFileTest, AFifoIsNotOpened) {
  const std::string fifo = "/tmp/ws-elf-fifo-" + std::to_string(getpid());
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  Result<ElfFile> file = ElfFile::Open(fifo);  // returns: does not wait for a writer
  std::remove(fifo.c_str());
  ASSERT_FALSE(file.ok());
  EXPECT_NE(file.error().message.find("not a regular file"), std::string::npos)
      << file.error().message;
}

TEST(ElfSymbolsTest, RejectsMissingAndNonElfFiles) {
  Result<ElfSymbols> missing = ElfSymbols::Load(kFixtureDir + "/no-such-file");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("no-such-file"), std::string::npos);

  std::string text_path = testing::TempDir() + "symbols_test_not_elf.txt";
  std::ofstream(text_path) << "just some text, long enough to not be an ELF header\n";
  Result<ElfSymbols> text = ElfSymbols::Load(text_path);
  EXPECT_FALSE(text.ok());
  std::remove(text_path.c_str());
}

TEST(ElfCacheTest, ParsesEachFileOnce) {
  ElfCache cache;
  auto a = cache.Get(FixturePath("symbols_fixture_fp"));
  auto b = cache.Get(FixturePath("symbols_fixture_fp"));
  auto c = cache.Get(FixturePath("symbols_fixture_nofp"));
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->get(), b->get());
  EXPECT_NE(a->get(), c->get());
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_FALSE(cache.Get(kFixtureDir + "/no-such-file").ok());
}

TEST(FindMappedFileTest, TrustsOnlyMatchingInodeForDeletedFiles) {
  std::string path = FixturePath("symbols_fixture_fp");
  Mapping m{.start = 0x1000, .end = 0x2000, .inode = InodeOf(path), .path = path};
  EXPECT_EQ(FindMappedFile(kFakePid, m), path);

  m.inode = InodeOf(path) + 1;  // the path now names another file
  EXPECT_EQ(FindMappedFile(kFakePid, m), std::nullopt);
  // The process's own view of the path is a fair guess (overlayfs can show
  // another inode), unless the mapped file was deleted.
  const uint32_t self = static_cast<uint32_t>(getpid());
  const std::string in_root = "/proc/" + std::to_string(self) + "/root" + path;
  EXPECT_EQ(FindMappedFile(self, m), in_root);
  m.deleted = true;
  EXPECT_EQ(FindMappedFile(self, m), std::nullopt);
  EXPECT_EQ(FindMappedFile(kFakePid, m), std::nullopt);

  EXPECT_EQ(FindMappedFile(kFakePid, Mapping{.path = "[heap]"}), std::nullopt);
  EXPECT_EQ(FindMappedFile(kFakePid, Mapping{.path = kFixtureDir + "/no-such-file"}), std::nullopt);
}

TEST(FindMappedFileTest, ReadsTheMappedFileNotTheFileNowAtItsPath) {
  if (geteuid() != 0) GTEST_SKIP() << "/proc/PID/map_files needs CAP_SYS_ADMIN (run as root)";
  // This process maps one fixture; its mapping then claims the other's path,
  // as when a library is replaced after being mapped (or a traced user
  // points the path elsewhere).
  const std::string mapped = FixturePath("symbols_fixture_fp");
  const std::string other = FixturePath("symbols_fixture_nofp");
  int fd = ::open(mapped.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  const long page = ::sysconf(_SC_PAGESIZE);
  void* at = ::mmap(nullptr, static_cast<size_t>(page), PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  ASSERT_NE(at, MAP_FAILED);
  const uint64_t start = reinterpret_cast<uintptr_t>(at);
  Mapping m{.start = start,
            .end = start + static_cast<uint64_t>(page),
            .inode = InodeOf(mapped),
            .path = other};
  char range[64];
  std::snprintf(range, sizeof(range), "/map_files/%llx-%llx",
                static_cast<unsigned long long>(m.start), static_cast<unsigned long long>(m.end));
  const uint32_t self = static_cast<uint32_t>(getpid());
  EXPECT_EQ(FindMappedFile(self, m), "/proc/" + std::to_string(self) + range);
  m.path = "/no/such/dir/lib.so";  // gone from its path altogether
  EXPECT_EQ(FindMappedFile(self, m), "/proc/" + std::to_string(self) + range);
  ::munmap(at, static_cast<size_t>(page));
}

// ---------------------------------------------------------------- fixtures

class FixtureTest : public testing::TestWithParam<const char*> {};

TEST_P(FixtureTest, ResolvesKnownFunctions) {
  const std::string name = GetParam();
  FixtureRun run = RunFixture(name);
  Symbolizer symbolizer;

  Frame ns = symbolizer.Resolve(run.pid, run.maps, run.funcs["ns"]);
  EXPECT_EQ(ns.name, "waitscope_fixture::InnerWork(int)");
  EXPECT_EQ(ns.module, FixturePath(name));
  EXPECT_EQ(symbolizer.Resolve(run.pid, run.maps, run.funcs["c"]).name, "ws_fixture_c_function");
  // Unexported, so only .symtab names it; see StrippedBinaryKeepsUnexportedFramesAsOffsets.
  if (name != "symbols_fixture_stripped") {
    EXPECT_EQ(symbolizer.Resolve(run.pid, run.maps, run.funcs["hidden"]).name, "HiddenHelper(int)");
  }
  EXPECT_EQ(symbolizer.Resolve(run.pid, run.maps, run.rets["ns"], true).name,
            "waitscope_fixture::InnerWork(int)");
}

TEST_P(FixtureTest, ReturnAddressAfterFinalCallNeedsAdjustment) {
  FixtureRun run = RunFixture(GetParam());
  Symbolizer symbolizer;
  uint64_t ra = run.rets["noreturn"];
  EXPECT_EQ(symbolizer.Resolve(run.pid, run.maps, ra, /*is_return_address=*/true).name,
            "waitscope_fixture::EndsWithCall()");
  EXPECT_NE(symbolizer.Resolve(run.pid, run.maps, ra, /*is_return_address=*/false).name,
            "waitscope_fixture::EndsWithCall()");
}

TEST_P(FixtureTest, ResolvesSharedLibraryFunctions) {
  FixtureRun run = RunFixture(GetParam());
  Symbolizer symbolizer;
  Frame c = symbolizer.Resolve(run.pid, run.maps, run.rets["lib_c"], true);
  EXPECT_EQ(c.name, "ws_fixture_lib_function");
  EXPECT_EQ(c.module, FixturePath("libsymbols_fixture_lib.so"));
  EXPECT_EQ(symbolizer.Resolve(run.pid, run.maps, run.rets["lib_ns"], true).name,
            "fixture_lib::Scale(int)");
}

INSTANTIATE_TEST_SUITE_P(Builds, FixtureTest,
                         testing::Values("symbols_fixture_fp", "symbols_fixture_nofp",
                                         "symbols_fixture_nopie", "symbols_fixture_rdynamic",
                                         "symbols_fixture_stripped"));

TEST(FixtureSymbolsTest, SizelessSymbolExtendsToNextSymbol) {
  FixtureRun run = RunFixture("symbols_fixture_fp");
  Symbolizer symbolizer;
  // The asm function is "nop; nop; ret": +2 is its last byte.
  EXPECT_EQ(symbolizer.Resolve(run.pid, run.maps, run.funcs["sizeless"] + 2).name,
            "ws_fixture_sizeless");
}

TEST(FixtureSymbolsTest, StrippedBinaryKeepsUnexportedFramesAsOffsets) {
  FixtureRun run = RunFixture("symbols_fixture_stripped");
  Symbolizer symbolizer;
  uint64_t addr = run.funcs["hidden"];
  const Mapping* m = run.maps.Find(addr);
  ASSERT_NE(m, nullptr);
  char expected[128];
  std::snprintf(expected, sizeof(expected), "symbols_fixture_stripped+0x%llx",
                static_cast<unsigned long long>(addr - m->start + m->file_offset));
  Frame hidden = symbolizer.Resolve(run.pid, run.maps, addr);
  EXPECT_EQ(hidden.name, expected);
  EXPECT_EQ(hidden.module, FixturePath("symbols_fixture_stripped"));
  // Exported through .dynsym (-rdynamic), so still named after stripping.
  EXPECT_EQ(symbolizer.Resolve(run.pid, run.maps, run.funcs["ns"]).name,
            "waitscope_fixture::InnerWork(int)");
}

TEST(FixtureSymbolsTest, ResolveStackIsRootFirstAndAdjustsOnlyCallers) {
  FixtureRun run = RunFixture("symbols_fixture_fp");
  Symbolizer symbolizer;
  // Leaf first, as the kernel reports it. The leaf is a function's first
  // byte: looking up addr - 1 there would land in the preceding function.
  std::vector<uint64_t> addrs = {run.funcs["hidden"], run.rets["noreturn"], 0x10};
  std::vector<Frame> frames = symbolizer.ResolveStack(run.pid, run.maps, addrs);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0], (Frame{"[unknown] 0x10", "[unknown]"}));
  EXPECT_EQ(frames[1].name, "waitscope_fixture::EndsWithCall()");
  EXPECT_EQ(frames[2].name, "HiddenHelper(int)");
}

TEST(FixtureSymbolsTest, ElfFilesAreSharedAcrossProcesses) {
  FixtureRun first = RunFixture("symbols_fixture_fp");
  FixtureRun second = RunFixture("symbols_fixture_fp");
  ASSERT_NE(first.pid, second.pid);
  Symbolizer symbolizer;
  EXPECT_EQ(symbolizer.Resolve(first.pid, first.maps, first.funcs["c"]).name,
            "ws_fixture_c_function");
  EXPECT_EQ(symbolizer.Resolve(second.pid, second.maps, second.funcs["c"]).name,
            "ws_fixture_c_function");
  EXPECT_EQ(symbolizer.cached_files(), 1u);
  EXPECT_EQ(symbolizer.Resolve(first.pid, first.maps, first.rets["lib_c"], true).name,
            "ws_fixture_lib_function");
  EXPECT_EQ(symbolizer.cached_files(), 2u);
}

// ---------------------------------------------------------------- synthetic

TEST(SymbolizerTest, FramesNeverVanish) {
  ProcessMaps maps({
      Mapping{.start = 0x1000, .end = 0x2000, .path = "[vdso]", .executable = true},
      Mapping{.start = 0x3000, .end = 0x4000, .path = "[heap]"},
      Mapping{.start = 0x5000,
              .end = 0x6000,
              .file_offset = 0x2000,
              .inode = 42,
              .path = "/nonexistent/dir/libgone.so",
              .executable = true},
      Mapping{.start = 0x7000, .end = 0x8000, .executable = true},
  });
  Symbolizer symbolizer;
  EXPECT_EQ(symbolizer.Resolve(kFakePid, maps, 0x1234), (Frame{"[vdso]", "[vdso]"}));
  EXPECT_EQ(symbolizer.Resolve(kFakePid, maps, 0x3010), (Frame{"[heap] 0x3010", "[heap]"}));
  EXPECT_EQ(symbolizer.Resolve(kFakePid, maps, 0x5010),
            (Frame{"libgone.so+0x2010", "/nonexistent/dir/libgone.so"}));
  // The displayed offset is of the address itself, even when the lookup used addr - 1.
  EXPECT_EQ(symbolizer.Resolve(kFakePid, maps, 0x5010, true).name, "libgone.so+0x2010");
  EXPECT_EQ(symbolizer.Resolve(kFakePid, maps, 0x7010), (Frame{"[anon] 0x7010", "[anon]"}));
  EXPECT_EQ(symbolizer.Resolve(kFakePid, maps, 0x9abc), (Frame{"[unknown] 0x9abc", "[unknown]"}));
  EXPECT_EQ(symbolizer.ResolveStack(kFakePid, maps, {0x9abc, 0x3010}).size(), 2u);
}

// ---------------------------------------------------------------- perf maps

TEST(PerfMapTest, ParsesBothHexFormsAndSkipsGarbage) {
  PerfMap map = PerfMap::Parse(
      "1000 10 first\n"
      "0x2000 0x20 LazyCompile:*handler /app/server.js:10\n"
      "not a line\n"
      "3000 zz broken size\n"
      "4000 0 empty\n"
      "1000 8 first-recompiled\r\n");
  EXPECT_EQ(map.size(), 2u);
  EXPECT_EQ(map.Lookup(0x1000), "first-recompiled");
  EXPECT_EQ(map.Lookup(0x1007), "first-recompiled");
  EXPECT_EQ(map.Lookup(0x1008), std::nullopt);
  EXPECT_EQ(map.Lookup(0x201f), "LazyCompile:*handler /app/server.js:10");
  EXPECT_EQ(map.Lookup(0x2020), std::nullopt);
  EXPECT_EQ(map.Lookup(0x3000), std::nullopt);
  EXPECT_EQ(map.Lookup(0xfff), std::nullopt);
}

class PerfMapFileTest : public testing::Test {
 protected:
  void TearDown() override { std::remove(path_.c_str()); }
  const std::string path_ = "/tmp/perf-" + std::to_string(kFakePid) + ".map";
};

TEST_F(PerfMapFileTest, SymbolizerUsesPerfMapForAnonymousCodeAndRereadsIt) {
  std::ofstream(path_) << "7f0000001000 100 jit_function_one\n";
  ProcessMaps maps({Mapping{.start = 0x7f0000000000, .end = 0x7f0000010000, .executable = true},
                    Mapping{.start = 0x7f0000020000, .end = 0x7f0000030000}});
  Symbolizer symbolizer;
  EXPECT_EQ(symbolizer.Resolve(kFakePid, maps, 0x7f0000001010),
            (Frame{"jit_function_one", "[anon]"}));
  EXPECT_EQ(symbolizer.Resolve(kFakePid, maps, 0x7f0000002010).name, "[anon] 0x7f0000002010");

  // The runtime appends as it compiles more code.
  std::ofstream(path_, std::ios::app) << "0x7f0000002000 0x100 _ZN3jit3twoEv\n";
  EXPECT_EQ(symbolizer.Resolve(kFakePid, maps, 0x7f0000002010).name, "jit::two()");
  EXPECT_EQ(symbolizer.Resolve(kFakePid, maps, 0x7f0000001010).name, "jit_function_one");

  // Not executable: not code, so the perf map is not consulted.
  std::ofstream(path_, std::ios::app) << "7f0000020000 100 data_not_code\n";
  EXPECT_EQ(symbolizer.Resolve(kFakePid, maps, 0x7f0000020010).name, "[anon] 0x7f0000020010");

  symbolizer.ForgetProcess(kFakePid);
  std::remove(path_.c_str());
  EXPECT_EQ(symbolizer.Resolve(kFakePid, maps, 0x7f0000001010).name, "[anon] 0x7f0000001010");
}

// /tmp/perf-PID.map can be created by any user for any PID, and waitscope
// reads it as root: what it must not read, and what it must.
class PerfMapTrustTest : public testing::Test {
 protected:
  void SetUp() override { std::remove(path_.c_str()); }
  void TearDown() override {
    std::remove(path_.c_str());
    std::remove(target_.c_str());
  }
  static constexpr std::uint64_t kAddr = 0x7f0000001010;
  // ctest runs each test as a process of its own, two at a time: one file
  // per test (PerfMapFile takes the path and the pid apart).
  const std::string path_ = "/tmp/perf-trust-" + std::to_string(getpid()) + "-" +
                            testing::UnitTest::GetInstance()->current_test_info()->name() + ".map";
  const std::string target_ = "/tmp/perf-trust-target-" + std::to_string(getpid());
  const std::string line_ = "7f0000001000 100 jit_function_one\n";
};

TEST_F(PerfMapTrustTest, ARootOwnedRegularFileIsRead) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root: the file must be owned by root";
  std::ofstream(path_) << line_;
  PerfMapFile file(path_, kFakePid);
  EXPECT_EQ(file.Lookup(kAddr), "jit_function_one");
  EXPECT_EQ(file.last_refusal(), "");
}

TEST_F(PerfMapTrustTest, AFifoIsRefusedWithoutBlocking) {
  ASSERT_EQ(mkfifo(path_.c_str(), 0600), 0);
  PerfMapFile file(path_, kFakePid);
  EXPECT_EQ(file.Lookup(kAddr), std::nullopt);  // returns: the open did not wait for a writer
  EXPECT_NE(file.last_refusal().find("not a regular file"), std::string::npos)
      << file.last_refusal();
}

TEST_F(PerfMapTrustTest, ASymlinkIsRefused) {
  std::ofstream(target_) << line_;
  ASSERT_EQ(symlink(target_.c_str(), path_.c_str()), 0);
  PerfMapFile file(path_, kFakePid);
  EXPECT_EQ(file.Lookup(kAddr), std::nullopt);
  EXPECT_NE(file.last_refusal().find("symbolic link"), std::string::npos) << file.last_refusal();
}

TEST_F(PerfMapTrustTest, AFileLargerThanTheCapIsRefused) {
  { std::ofstream(path_) << line_; }
  ASSERT_EQ(truncate(path_.c_str(), static_cast<off_t>(kMaxPerfMapBytes) + 1), 0);  // sparse
  PerfMapFile file(path_, kFakePid);
  EXPECT_EQ(file.Lookup(kAddr), std::nullopt);
  EXPECT_NE(file.last_refusal().find("larger than"), std::string::npos) << file.last_refusal();
}

TEST_F(PerfMapTrustTest, AnotherUsersFileIsRefusedTheProcessUsersIsRead) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root: to give the file and a process another owner";
  constexpr uid_t kUser = 54321;
  std::ofstream(path_) << line_;
  ASSERT_EQ(chown(path_.c_str(), kUser, kUser), 0);
  // No process has kFakePid: only root's file would do.
  PerfMapFile stranger(path_, kFakePid);
  EXPECT_EQ(stranger.Lookup(kAddr), std::nullopt);
  EXPECT_NE(stranger.last_refusal().find("owned by uid 54321"), std::string::npos)
      << stranger.last_refusal();

  // A process of that user may name its own JIT code.
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(ready[0]);
    if (setgid(kUser) != 0 || setuid(kUser) != 0) _exit(1);
    (void)!write(ready[1], "x", 1);
    pause();
    _exit(0);
  }
  close(ready[1]);
  char c = 0;
  const bool started = read(ready[0], &c, 1) == 1;
  close(ready[0]);
  PerfMapFile own(path_, static_cast<std::uint32_t>(child));
  const std::optional<std::string> name = own.Lookup(kAddr);
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  ASSERT_TRUE(started) << "the child could not become uid " << kUser;
  EXPECT_EQ(name, "jit_function_one") << own.last_refusal();
}

}  // namespace
}  // namespace waitscope
