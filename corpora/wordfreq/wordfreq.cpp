// wordfreq: word frequency count of a text.
//
// Input (stdin): arbitrary bytes, treated as text. A word is a maximal run of
// ASCII letters (A-Z, a-z); every other byte (digits, punctuation, whitespace,
// bytes >= 0x80, NUL) separates words. Words are compared after lower-casing.
//
// Output: the total number of words, the number of distinct words, then the
// 20 most frequent words as "count word" lines, by count descending with ties
// broken by the word in ascending byte order.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <utility>
#include <vector>

struct WordCount {
    std::string word;
    long count;
};

struct WordStats {
    std::vector<WordCount> top;  // at most top_k entries, in output order
    long distinct = 0;           // number of different words
    long total = 0;              // number of words
};

// ---- hot computation: may be changed as long as results stay the same ----
// EVOLVE-BLOCK-START

static bool is_letter(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static std::string lower_case(std::string s) {
    std::string out;
    for (char c : s) {
        if (c >= 'A' && c <= 'Z')
            out += static_cast<char>(c - 'A' + 'a');
        else
            out += c;
    }
    return out;
}

static std::vector<std::string> split_words(std::string text) {
    std::vector<std::string> words;
    std::string current;
    for (char c : text) {
        if (is_letter(c)) {
            current += c;
        } else if (!current.empty()) {
            words.push_back(current);
            current = "";
        }
    }
    if (!current.empty())
        words.push_back(current);
    return words;
}

static bool comes_before(std::pair<std::string, int> a, std::pair<std::string, int> b) {
    if (a.second != b.second)
        return a.second > b.second;
    return a.first < b.first;
}

// Count the words of `text` and return the top_k most frequent.
WordStats analyze(const std::string& text, std::size_t top_k) {
    std::string lower = lower_case(text);
    std::vector<std::string> words = split_words(lower);

    std::map<std::string, int> counts;
    for (std::string w : words) {
        if (counts.find(w) == counts.end())
            counts[w] = 0;
        counts[w] = counts[w] + 1;
    }

    std::vector<std::pair<std::string, int>> entries;
    for (std::pair<std::string, int> entry : counts)
        entries.push_back(entry);
    std::sort(entries.begin(), entries.end(), comes_before);

    WordStats stats;
    stats.total = static_cast<long>(words.size());
    stats.distinct = static_cast<long>(counts.size());
    for (std::size_t i = 0; i < entries.size() && i < top_k; i++) {
        WordCount wc;
        wc.word = entries[i].first;
        wc.count = entries[i].second;
        stats.top.push_back(wc);
    }
    return stats;
}

// EVOLVE-BLOCK-END
// ---- end of the hot computation ----

static std::string read_all_stdin() {
    std::string data;
    char buf[1 << 16];
    std::size_t got;
    while ((got = std::fread(buf, 1, sizeof buf, stdin)) > 0)
        data.append(buf, got);
    if (std::ferror(stdin)) {
        std::fprintf(stderr, "wordfreq: error reading stdin\n");
        std::exit(1);
    }
    return data;
}

int main() {
    std::string text = read_all_stdin();
    if (text.size() > (std::size_t(1) << 30)) {
        std::fprintf(stderr, "wordfreq: input larger than 1 GiB\n");
        return 1;
    }
    WordStats stats = analyze(text, 20);
    std::printf("total %ld\n", stats.total);
    std::printf("distinct %ld\n", stats.distinct);
    std::printf("top %zu\n", stats.top.size());
    for (const WordCount& wc : stats.top)
        std::printf("%ld %s\n", wc.count, wc.word.c_str());
    return 0;
}
