// Small text utilities: near-miss suggestions, joining, line diffs.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace ratchet {

size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word` when it is close enough to be a typo
// (distance <= max(1, len/3)); empty otherwise.
std::string near_miss(std::string_view word, const std::vector<std::string>& candidates);

std::string join(const std::vector<std::string>& parts, std::string_view separator);

std::vector<std::string> split_lines(std::string_view text);

// A unified diff (3 lines of context) between two texts, with the given
// labels in the ---/+++ header; empty when the texts are equal.
std::string unified_diff(std::string_view before, std::string_view after,
                         const std::string& before_label, const std::string& after_label);

// `text` cut to at most `max_bytes`, keeping the start and the end, with a
// marker saying how much was removed (compiler logs, verifier diffs). When
// `max_bytes` cannot hold the marker (~30 bytes), the marker alone.
std::string truncate_middle(const std::string& text, size_t max_bytes);

// Shell-style quoting for displaying a command line.
std::string shell_quote(const std::string& word);
std::string shell_join(const std::vector<std::string>& argv);

// Splits a command line into words the way a POSIX shell would for plain
// words, 'single' and "double" quotes and backslash escapes (no expansion).
// An unterminated quote is an error naming the position.
Result<std::vector<std::string>> split_shell_words(std::string_view line);

}  // namespace ratchet
