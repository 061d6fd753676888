"""Networks: bridges, veths, IPAM, DNS, published ports."""
