from sb3_lql.lql.lql import LQL
from sb3_lql.lql.policies import MlpPolicy, MultiInputPolicy

__all__ = ["LQL", "MlpPolicy", "MultiInputPolicy"]
