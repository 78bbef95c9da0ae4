"""``python -m sb3_lql.train``: rl_zoo3's train with LQL and NC-LQL registered (see :mod:`sb3_lql.zoo`)."""

from sb3_lql.zoo import train

if __name__ == "__main__":
    train()
