#include "common/hash.h"

namespace ratchet {

void Hasher::mix_byte(unsigned char byte) {
  state_ ^= byte;
  state_ *= 0x100000001b3ULL;  // FNV-1a prime
}

void Hasher::add(std::string_view bytes) {
  uint64_t length = bytes.size();
  for (int i = 0; i < 8; ++i) mix_byte(static_cast<unsigned char>(length >> (8 * i)));
  for (char c : bytes) mix_byte(static_cast<unsigned char>(c));
}

uint64_t Hasher::value() const {
  // FNV-1a alone avalanches poorly in the high bits; finish with splitmix64.
  uint64_t z = state_ + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::string Hasher::hex() const {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text(16, '0');
  uint64_t v = value();
  for (int i = 15; i >= 0; --i, v >>= 4) text[static_cast<size_t>(i)] = kDigits[v & 15];
  return text;
}

std::string hash_hex(std::string_view bytes) {
  Hasher hasher;
  hasher.add(bytes);
  return hasher.hex();
}

}  // namespace ratchet
