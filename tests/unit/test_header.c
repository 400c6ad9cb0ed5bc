/* Compiles hive.h alone with -std=c11 -pedantic -Werror. */
#include "hive.h"

int main(void)
{
	return HIVE_OK;
}
