// RingQueue: a FIFO queue on one growable circular array, for the per-event
// queues of the wire path (a Redis connection's commands awaiting replies, a
// thread's recent statement spans). std::deque allocates and frees a block
// every few elements as such a queue slides along (a block holds 512 bytes);
// here the slots are reused once the queue has reached its working size.
// The capacity is kept until the queue is destroyed, so callers bound the
// size (a queue's peak, not its current size, is what it holds on to).
#pragma once

#include <cstddef>
#include <iterator>
#include <type_traits>
#include <utility>
#include <vector>

namespace waitscope {

template <typename T>
class RingQueue {
 public:
  template <bool kConst>
  class Iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using Queue = std::conditional_t<kConst, const RingQueue, RingQueue>;
    using reference = std::conditional_t<kConst, const T&, T&>;
    using pointer = std::conditional_t<kConst, const T*, T*>;

    Iterator() = default;
    Iterator(Queue* q, std::size_t i) : q_(q), i_(i) {}
    reference operator*() const { return (*q_)[i_]; }
    pointer operator->() const { return &(*q_)[i_]; }
    Iterator& operator++() {
      ++i_;
      return *this;
    }
    Iterator operator++(int) {
      Iterator old = *this;
      ++i_;
      return old;
    }
    bool operator==(const Iterator& o) const { return i_ == o.i_ && q_ == o.q_; }

   private:
    Queue* q_ = nullptr;
    std::size_t i_ = 0;  // position from the front
  };
  using iterator = Iterator<false>;
  using const_iterator = Iterator<true>;

  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }

  T& front() { return slots_[head_]; }
  const T& front() const { return slots_[head_]; }
  T& back() { return (*this)[size_ - 1]; }
  const T& back() const { return (*this)[size_ - 1]; }
  // The i-th element from the front.
  T& operator[](std::size_t i) { return slots_[(head_ + i) & (slots_.size() - 1)]; }
  const T& operator[](std::size_t i) const { return slots_[(head_ + i) & (slots_.size() - 1)]; }

  // Appends a value-initialized element and returns it.
  T& emplace_back() {
    if (size_ == slots_.size()) Grow();
    ++size_;
    return back();
  }
  void push_back(T&& v) { emplace_back() = std::move(v); }
  void push_back(const T& v) { emplace_back() = v; }

  // Removes the front element; what it held (strings, shared pointers) is
  // released now, not when its slot is reused.
  void pop_front() {
    slots_[head_] = T{};
    head_ = (head_ + 1) & (slots_.size() - 1);
    --size_;
  }

  // Empties the queue; its capacity stays.
  void clear() {
    while (!empty()) pop_front();
    head_ = 0;
  }

  iterator begin() { return iterator(this, 0); }
  iterator end() { return iterator(this, size_); }
  const_iterator begin() const { return const_iterator(this, 0); }
  const_iterator end() const { return const_iterator(this, size_); }

 private:
  // Doubles the capacity (a power of two: positions wrap with a mask),
  // moving the elements to the front of the new array, in order.
  void Grow() {
    std::vector<T> bigger(slots_.empty() ? 8 : 2 * slots_.size());
    for (std::size_t i = 0; i < size_; ++i) bigger[i] = std::move((*this)[i]);
    slots_ = std::move(bigger);
    head_ = 0;
  }

  // Slots outside [head_, head_ + size_) (wrapping) hold value-initialized
  // elements, so emplace_back need not reset one.
  std::vector<T> slots_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace waitscope
