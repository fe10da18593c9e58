// FMA-throughput probe: the machine's single-precision peak, which the benchmarks report beside
// their tables (a GEMM at 90% of it is near the hardware limit). Each ISA file holds one block of
// 12 independent accumulator chains, a = a * m + c: enough chains to cover the FMA latency times
// the number of FMA pipes on current x86 cores (4 cycles x 2 pipes on Zen 4 and Skylake-X), so
// the loop runs at the issue rate and measures throughput, not latency.
#pragma once
#include <cstdint>

#include "core/cpu_features.h"

namespace fastnn::cpu {

// One block: `iters` iterations of 12 FMAs on 16-lane zmm / 8-lane ymm vectors; returns a sum of
// the accumulators so the work cannot be removed. Call only when the CPU has the ISA.
float fma_block_avx512(int64_t iters, float seed);
float fma_block_avx2(int64_t iters, float seed);
constexpr double kFmaFlopPerIterAvx512 = 12.0 * 16 * 2;
constexpr double kFmaFlopPerIterAvx2 = 12.0 * 8 * 2;

// GFLOP/s of `threads` OpenMP threads running the block loop concurrently for about `seconds`
// each (after a short unmeasured warm-up that lets the clock ramp), summed over the threads.
// Throws ValueError when the CPU lacks `isa` or there is no probe for it (generic).
double fma_peak(Isa isa, double seconds, int threads);

}  // namespace fastnn::cpu
