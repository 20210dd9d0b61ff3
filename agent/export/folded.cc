#include "export/folded.h"

#include <charconv>
#include <limits>
#include <map>

#include "core/atomic_file.h"

namespace waitscope {
namespace {

std::uint64_t SaturatingAdd(std::uint64_t a, std::uint64_t b) {
  return a > std::numeric_limits<std::uint64_t>::max() - b
             ? std::numeric_limits<std::uint64_t>::max()
             : a + b;
}

}  // namespace

std::string SanitizeFoldedFrame(std::string_view frame) {
  std::string out(frame);
  for (char& c : out) {
    if (c == ';') c = ':';
    if (c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

std::string FoldedToString(const std::vector<FoldedStack>& stacks) {
  // Keyed by the joined line so merging and bytewise sorting are one step.
  std::map<std::string, std::uint64_t> lines;
  for (const FoldedStack& stack : stacks) {
    if (stack.frames.empty() || stack.value == 0) continue;
    std::string key;
    for (std::size_t i = 0; i < stack.frames.size(); ++i) {
      if (i > 0) key += ';';
      key += SanitizeFoldedFrame(stack.frames[i]);
    }
    std::uint64_t& total = lines[key];
    total = SaturatingAdd(total, stack.value);
  }
  std::string out;
  for (const auto& [key, value] : lines) {
    out += key;
    out += ' ';
    out += std::to_string(value);
    out += '\n';
  }
  return out;
}

Status WriteFolded(const std::vector<FoldedStack>& stacks, const std::string& path) {
  return WriteFileAtomically(path, FoldedToString(stacks));
}

Result<std::vector<FoldedStack>> ParseFolded(std::string_view text) {
  std::vector<FoldedStack> stacks;
  std::size_t line_no = 0;
  while (!text.empty()) {
    const std::size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;

    const auto bad = [&](const char* why) {
      return Error{"folded line " + std::to_string(line_no) + ": " + why};
    };
    const std::size_t space = line.rfind(' ');
    if (space == std::string_view::npos) return bad("no value after the stack");
    const std::string_view digits = line.substr(space + 1);
    FoldedStack stack;
    const auto [end, ec] =
        std::from_chars(digits.data(), digits.data() + digits.size(), stack.value);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
      return bad("value is not an unsigned 64-bit integer");
    }
    std::string_view frames = line.substr(0, space);
    if (frames.empty()) return bad("empty stack");
    while (true) {
      const std::size_t sep = frames.find(';');
      stack.frames.emplace_back(frames.substr(0, sep));
      if (sep == std::string_view::npos) break;
      frames.remove_prefix(sep + 1);
    }
    stacks.push_back(std::move(stack));
  }
  return stacks;
}

}  // namespace waitscope
