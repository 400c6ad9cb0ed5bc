/*
 * random.h — the unit tests' random numbers: splitmix64 from a seed each
 * test sets, so a failing case repeats exactly.
 */
#ifndef TESTS_RANDOM_H
#define TESTS_RANDOM_H

#include <stdint.h>

static uint64_t rng_state;

static inline uint64_t rng(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* 0 .. n - 1 (the bias of a modulus is of no matter here). */
static inline uint32_t rng_below(uint32_t n)
{
	return (uint32_t)(rng() % n);
}

#endif
