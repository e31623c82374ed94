"""Consumer-driven contracts: the consumers' pacts (``pacts/``) and the consumer tests that write them."""
