"""Machinery shared by LQL and NC-LQL: the Langevin sampler, the critics, the policy and algorithm bases."""
