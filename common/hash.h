// A fast 64-bit content hash for deduplication and cache keys (not for
// security: nothing trusts it against an adversary who wants a collision).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ratchet {

class Hasher {
 public:
  // Each add() is length-prefixed, so ("ab","c") and ("a","bc") differ.
  void add(std::string_view bytes);
  uint64_t value() const;
  std::string hex() const;  // 16 lowercase hex digits

 private:
  uint64_t state_ = 0xcbf29ce484222325ULL;
  void mix_byte(unsigned char byte);
};

std::string hash_hex(std::string_view bytes);

}  // namespace ratchet
