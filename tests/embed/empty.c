/* Nothing: the test compiles the header given with -include. */
