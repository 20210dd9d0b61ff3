// FindSslWorker / StartsWithEmulatedPush on the first bytes of real OpenSSL
// wrappers (Debian 12's libssl.so.3, OpenSSL 3.0) and on variants that must
// not be taken for a wrapper: a wrong worker probe would attach the _ex
// programs to an arbitrary function.
#include "loader/ssl_workers.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "loader/ssl_symbols.h"

namespace waitscope {
namespace {

// libssl.so.3 (3.0.x, Debian 12): SSL_read at 0x35430, SSL_read_ex at
// 0x354c0; both call ssl_read_internal at 0x35290 (`push %r13` first).
const std::vector<std::uint8_t> kSslRead = {0x48, 0x83, 0xec, 0x18, 0x64, 0x48, 0x8b, 0x04, 0x25,
                                            0x28, 0x00, 0x00, 0x00, 0x48, 0x89, 0x44, 0x24, 0x08,
                                            0x31, 0xc0, 0x85, 0xd2, 0x78, 0x2f, 0x48, 0x89, 0xe1,
                                            0x48, 0x63, 0xd2, 0xe8, 0x3d, 0xfe, 0xff, 0xff};
const std::vector<std::uint8_t> kSslReadEx = {0x48, 0x83, 0xec, 0x08, 0xe8, 0xc7, 0xfd, 0xff, 0xff};
// SSL_write at 0x35980 and SSL_write_ex at 0x35a10 call ssl_write_internal at 0x355a0.
const std::vector<std::uint8_t> kSslWrite = {0x48, 0x83, 0xec, 0x18, 0x64, 0x48, 0x8b, 0x04, 0x25,
                                             0x28, 0x00, 0x00, 0x00, 0x48, 0x89, 0x44, 0x24, 0x08,
                                             0x31, 0xc0, 0x85, 0xd2, 0x78, 0x2f, 0x48, 0x89, 0xe1,
                                             0x48, 0x63, 0xd2, 0xe8, 0xfd, 0xfb, 0xff, 0xff};
const std::vector<std::uint8_t> kSslWriteEx = {0x48, 0x83, 0xec, 0x08, 0xe8,
                                               0x87, 0xfb, 0xff, 0xff};

CodeAt At(std::uint64_t vaddr, const std::vector<std::uint8_t>& bytes) {
  return {vaddr, bytes};
}

TEST(SslWorkers, FindsTheReadAndWriteWorkersOfOpenSsl30) {
  EXPECT_EQ(FindSslWorker(At(0x35430, kSslRead), At(0x354c0, kSslReadEx)), 0x35290u);
  EXPECT_EQ(FindSslWorker(At(0x35980, kSslWrite), At(0x35a10, kSslWriteEx)), 0x355a0u);
}

TEST(SslWorkers, AcceptsAnEndbr64BeforeTheExPrologue) {
  std::vector<std::uint8_t> ex = {0xf3, 0x0f, 0x1e, 0xfa};
  ex.insert(ex.end(), kSslReadEx.begin(), kSslReadEx.end());
  // The call moved 4 bytes later, so its rel32 now reaches 4 bytes further:
  // start the wrapper 4 bytes earlier to keep the same target.
  EXPECT_EQ(FindSslWorker(At(0x35430, kSslRead), At(0x354c0 - 4, ex)), 0x35290u);
}

TEST(SslWorkers, WrappersCallingDifferentFunctionsHaveNoWorker) {
  // SSL_read with SSL_write_ex: each calls its own worker.
  EXPECT_EQ(FindSslWorker(At(0x35430, kSslRead), At(0x35a10, kSslWriteEx)), std::nullopt);
  // The same code at another address calls another target.
  EXPECT_EQ(FindSslWorker(At(0x35430, kSslRead), At(0x354c0 + 16, kSslReadEx)), std::nullopt);
}

TEST(SslWorkers, AnExWrapperThatIsNotThinHasNoWorker) {
  std::vector<std::uint8_t> ex = kSslReadEx;
  ex[0] = 0x55;  // push %rbp instead of sub: not the wrapper shape we know
  EXPECT_EQ(FindSslWorker(At(0x35430, kSslRead), At(0x354c0, ex)), std::nullopt);
  ex = kSslReadEx;
  ex[4] = 0xe9;  // jmp rel32, a tail call: not a call
  EXPECT_EQ(FindSslWorker(At(0x35430, kSslRead), At(0x354c0, ex)), std::nullopt);
}

TEST(SslWorkers, TruncatedCodeNeverReadsPastItsEnd) {
  for (std::size_t n = 0; n < kSslReadEx.size(); ++n) {
    std::vector<std::uint8_t> ex(kSslReadEx.begin(), kSslReadEx.begin() + static_cast<long>(n));
    EXPECT_EQ(FindSslWorker(At(0x35430, kSslRead), At(0x354c0, ex)), std::nullopt) << n;
  }
  for (std::size_t n = 0; n < kSslRead.size(); ++n) {
    std::vector<std::uint8_t> plain(kSslRead.begin(), kSslRead.begin() + static_cast<long>(n));
    EXPECT_EQ(FindSslWorker(At(0x35430, plain), At(0x354c0, kSslReadEx)), std::nullopt) << n;
  }
}

TEST(SslWorkers, ThePlainWrapperIsScannedOnlyAsFarAsTheLimit) {
  std::vector<std::uint8_t> plain(kSslWrapperScanBytes, 0x90);  // nops, then the call
  plain.insert(plain.end(), kSslRead.end() - 5, kSslRead.end());
  const std::uint64_t call_at = 0x35430 + 0x1e;  // where the call sits in SSL_read
  EXPECT_EQ(FindSslWorker(At(call_at - kSslWrapperScanBytes, plain), At(0x354c0, kSslReadEx)),
            std::nullopt);
}

TEST(SslWorkers, OnlyPushesCountAsEmulated) {
  const std::vector<std::vector<std::uint8_t>> emulated = {
      {0x55}, {0x53}, {0x41, 0x55}, {0x41, 0x56}, {0x41, 0x50}};
  for (const auto& code : emulated) EXPECT_TRUE(StartsWithEmulatedPush(code)) << int(code.back());
  const std::vector<std::vector<std::uint8_t>> stepped = {
      {}, {0x41}, {0x48, 0x83, 0xec, 0x08}, {0xf3, 0x0f, 0x1e, 0xfa}, {0x41, 0x58}, {0x58}};
  for (const auto& code : stepped) EXPECT_FALSE(StartsWithEmulatedPush(code));
}

// SSL_free (0x3b350): test %rdi,%rdi; je rel32; push %r13 ...
const std::vector<std::uint8_t> kSslFree = {0x48, 0x85, 0xff, 0x0f, 0x84, 0x97,
                                            0x03, 0x00, 0x00, 0x41, 0x55};

TEST(SslWorkers, EntryProbeSkipsSslFreesNullCheck) {
  EXPECT_EQ(EmulatedEntryProbeOffset(kSslFree), 9u);
  // The short form of the jump.
  EXPECT_EQ(EmulatedEntryProbeOffset(std::vector<std::uint8_t>{0x48, 0x85, 0xff, 0x74, 0x10, 0x53}),
            5u);
  // Already emulated at the entry.
  EXPECT_EQ(EmulatedEntryProbeOffset(std::vector<std::uint8_t>{0x41, 0x54, 0x55}), 0u);
}

TEST(SslWorkers, EntryProbeStaysOnAnythingElse) {
  // The null check is followed by something other than a push.
  std::vector<std::uint8_t> code = kSslFree;
  code[9] = 0x48;
  EXPECT_EQ(EmulatedEntryProbeOffset(code), std::nullopt);
  // A null check of another register (%rsi) says nothing about the first argument.
  code = kSslFree;
  code[2] = 0xf6;
  EXPECT_EQ(EmulatedEntryProbeOffset(code), std::nullopt);
  // sub $8,%rsp first, as SSL_read_ex.
  EXPECT_EQ(EmulatedEntryProbeOffset(kSslReadEx), std::nullopt);
  for (std::size_t n = 0; n < kSslFree.size(); ++n) {
    std::vector<std::uint8_t> cut(kSslFree.begin(), kSslFree.begin() + static_cast<long>(n));
    EXPECT_EQ(EmulatedEntryProbeOffset(cut), std::nullopt) << n;
  }
}

// The whole path on the machine's own libssl (Debian 12: OpenSSL 3.0, the
// build whose bytes are above): the workers are probed, never the four
// wrappers as well (every call would count twice). Fails if a libssl update changes the shape,
// which must then be looked at, not ignored: the fallback is ~10 µs per call on our VMs.
TEST(SslWorkers, TheSystemLibsslIsProbedThroughItsWorkers) {
  const std::string path = "/usr/lib/x86_64-linux-gnu/libssl.so.3";
  if (access(path.c_str(), R_OK) != 0) GTEST_SKIP() << path << " is not installed";
  Result<std::vector<SslFunctionOffset>> found = FindSslFunctions(path);
  ASSERT_TRUE(found.ok()) << found.error().message;
  auto has = [&](SslFunction f) {
    return std::any_of(found->begin(), found->end(),
                       [f](const SslFunctionOffset& o) { return o.function == f; });
  };
  EXPECT_TRUE(has(SslFunction::kReadWorker));
  EXPECT_TRUE(has(SslFunction::kWriteWorker));
  for (SslFunction wrapper :
       {SslFunction::kRead, SslFunction::kReadEx, SslFunction::kWrite, SslFunction::kWriteEx}) {
    EXPECT_FALSE(has(wrapper)) << static_cast<int>(wrapper);
  }
  EXPECT_TRUE(has(SslFunction::kDoHandshake));
}

}  // namespace
}  // namespace waitscope
