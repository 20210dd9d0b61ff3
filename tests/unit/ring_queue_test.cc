#include "core/ring_queue.h"

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace waitscope {
namespace {

std::vector<std::string> Contents(const RingQueue<std::string>& q) {
  return std::vector<std::string>(q.begin(), q.end());
}

TEST(RingQueue, KeepsOrderAcrossWrapsAndGrowth) {
  RingQueue<std::string> q;
  std::deque<std::string> model;
  std::mt19937 rng(7);
  for (int step = 0; step < 20000; ++step) {
    // Pushes win slightly, so the queue grows while its front slides on.
    if (model.empty() || rng() % 100 < 52) {
      std::string v = "value " + std::to_string(step) + std::string(rng() % 40, 'x');
      q.push_back(v);
      model.push_back(v);
    } else {
      ASSERT_EQ(q.front(), model.front()) << "step " << step;
      q.pop_front();
      model.pop_front();
    }
    ASSERT_EQ(q.size(), model.size()) << "step " << step;
    if (step % 997 == 0) {
      ASSERT_EQ(Contents(q), std::vector<std::string>(model.begin(), model.end()));
      ASSERT_EQ(q.back(), model.back());
      ASSERT_EQ(q[model.size() / 2], model[model.size() / 2]);
    }
  }
}

TEST(RingQueue, EmplacedElementsStartValueInitialized) {
  RingQueue<std::pair<int, std::string>> q;
  for (int round = 0; round < 50; ++round) {
    auto& e = q.emplace_back();
    EXPECT_EQ(e.first, 0);
    EXPECT_TRUE(e.second.empty());
    e = {round, "a long string that does not fit the small buffer"};
    if (q.size() > 5) q.pop_front();  // slots get reused from here on
  }
  q.clear();
  EXPECT_TRUE(q.empty());
  EXPECT_TRUE(q.emplace_back().second.empty());
}

TEST(RingQueue, PopAndClearReleaseWhatElementsHeld) {
  auto shared = std::make_shared<int>(1);
  RingQueue<std::shared_ptr<int>> q;
  for (int i = 0; i < 10; ++i) q.push_back(shared);
  EXPECT_EQ(shared.use_count(), 11);
  q.pop_front();
  EXPECT_EQ(shared.use_count(), 10);
  q.clear();
  EXPECT_EQ(shared.use_count(), 1);
}

}  // namespace
}  // namespace waitscope
