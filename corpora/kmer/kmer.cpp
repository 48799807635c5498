// kmer: k-mer counting over DNA sequences.
//
// Input (stdin):
//   first line: k, an integer in 1..32
//   then FASTA text: lines starting with '>' are record headers, other lines
//   are sequence. Bases A, C, G, T are accepted in either case (lower case is
//   "soft-masked" sequence and counts the same as upper case); any other
//   letter (N, IUPAC codes such as R or Y) is an unknown base. Spaces, tabs
//   and '\r' in sequence lines are ignored; any other byte is an error.
//
// A k-mer is k consecutive known bases within one record (a k-mer never spans
// a record boundary or an unknown base; line breaks inside a record do not
// matter). Every occurrence counts; overlapping occurrences count separately.
//
// Output: k, the number of k-mer occurrences, the number of distinct k-mers,
// a checksum over all distinct k-mers and their counts, then the 10 most
// frequent k-mers as "count kmer" lines (count descending, ties by k-mer in
// ascending alphabetical order).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

struct KmerCount {
    std::string kmer;
    long long count;
};

struct KmerStats {
    long long total = 0;          // k-mer occurrences
    long long distinct = 0;       // distinct k-mers
    std::uint64_t checksum = 0;   // sum over distinct k-mers of count * kmer_mix(value), mod 2^64
    std::vector<KmerCount> top;   // at most top_n entries, in output order
};

// value(kmer) = sum of code(base_i) * 4^(k-1-i) with A=0, C=1, G=2, T=3
// (the k-mer read as a base-4 number; exact in 64 bits for k <= 32).
// The checksum adds count * kmer_mix(value) for every distinct k-mer.
static inline std::uint64_t kmer_mix(std::uint64_t value) {
    std::uint64_t z = value + 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

// ---- hot computation: may be changed as long as results stay the same ----
// EVOLVE-BLOCK-START

static std::uint64_t base_code(char c) {
    switch (c) {
    case 'A': return 0;
    case 'C': return 1;
    case 'G': return 2;
    default: return 3;  // 'T'
    }
}

static std::uint64_t kmer_value(const std::string& kmer) {
    std::uint64_t value = 0;
    for (char c : kmer)
        value = value * 4 + base_code(c);
    return value;
}

static bool more_frequent(const std::pair<std::string, int>& a, const std::pair<std::string, int>& b) {
    if (a.second != b.second)
        return a.second > b.second;
    return a.first < b.first;
}

// Count the k-mers of every record. Records contain only the characters
// 'A', 'C', 'G', 'T' and 'N' (unknown base).
KmerStats count_kmers(const std::vector<std::string>& records, int k, std::size_t top_n) {
    std::unordered_map<std::string, int> counts;
    KmerStats stats;
    for (const std::string& seq : records) {
        for (std::size_t i = 0; i + k <= seq.size(); i++) {
            std::string kmer = seq.substr(i, k);
            if (kmer.find('N') != std::string::npos)
                continue;
            counts[kmer]++;
            stats.total++;
        }
    }
    stats.distinct = static_cast<long long>(counts.size());

    std::vector<std::pair<std::string, int>> entries(counts.begin(), counts.end());
    for (const auto& entry : entries)
        stats.checksum += static_cast<std::uint64_t>(entry.second) * kmer_mix(kmer_value(entry.first));
    std::sort(entries.begin(), entries.end(), more_frequent);
    for (std::size_t i = 0; i < entries.size() && i < top_n; i++)
        stats.top.push_back(KmerCount{entries[i].first, entries[i].second});
    return stats;
}

// EVOLVE-BLOCK-END
// ---- end of the hot computation ----

[[noreturn]] static void fail(const char* msg) {
    std::fprintf(stderr, "kmer: %s\n", msg);
    std::exit(1);
}

static std::string read_all_stdin() {
    std::string data;
    char buf[1 << 16];
    std::size_t got;
    while ((got = std::fread(buf, 1, sizeof buf, stdin)) > 0) {
        data.append(buf, got);
        if (data.size() > (std::size_t(1) << 30))
            fail("input larger than 1 GiB");
    }
    if (std::ferror(stdin))
        fail("error reading stdin");
    return data;
}

int main() {
    std::string text = read_all_stdin();
    std::size_t pos = 0;

    // first line: k
    std::size_t eol = text.find('\n');
    std::string first = text.substr(0, eol == std::string::npos ? text.size() : eol);
    while (!first.empty() && (first.back() == '\r' || first.back() == ' ' || first.back() == '\t'))
        first.pop_back();
    if (first.empty() || first.size() > 2 ||
        first.find_first_not_of("0123456789") != std::string::npos)
        fail("first line must be k, an integer in 1..32");
    int k = std::atoi(first.c_str());
    if (k < 1 || k > 32)
        fail("first line must be k, an integer in 1..32");
    pos = eol == std::string::npos ? text.size() : eol + 1;

    // FASTA records, normalized to A/C/G/T/N
    std::vector<std::string> records;
    bool in_record = false;
    while (pos < text.size()) {
        eol = text.find('\n', pos);
        std::size_t end = eol == std::string::npos ? text.size() : eol;
        if (text[pos] == '>') {
            records.emplace_back();
            in_record = true;
        } else {
            if (!in_record) {  // sequence before any header: an unnamed record
                records.emplace_back();
                in_record = true;
            }
            std::string& seq = records.back();
            for (std::size_t i = pos; i < end; i++) {
                char c = text[i];
                switch (c) {
                case 'A': case 'a': seq += 'A'; break;
                case 'C': case 'c': seq += 'C'; break;
                case 'G': case 'g': seq += 'G'; break;
                case 'T': case 't': seq += 'T'; break;
                case ' ': case '\t': case '\r': break;
                default:
                    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))
                        seq += 'N';
                    else
                        fail("invalid character in a sequence line");
                }
            }
        }
        pos = end + 1;
    }

    KmerStats stats = count_kmers(records, k, 10);
    std::printf("k %d\n", k);
    std::printf("total %lld\n", stats.total);
    std::printf("distinct %lld\n", stats.distinct);
    std::printf("checksum %016llx\n", static_cast<unsigned long long>(stats.checksum));
    std::printf("top %zu\n", stats.top.size());
    for (const KmerCount& kc : stats.top)
        std::printf("%lld %s\n", kc.count, kc.kmer.c_str());
    return 0;
}
