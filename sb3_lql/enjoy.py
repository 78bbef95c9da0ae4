"""``python -m sb3_lql.enjoy``: rl_zoo3's enjoy with LQL and NC-LQL registered (see :mod:`sb3_lql.zoo`)."""

from sb3_lql.zoo import enjoy

if __name__ == "__main__":
    enjoy()
