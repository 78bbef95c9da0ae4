from sb3_lql.lql.lql import LQL
from sb3_lql.lql.policies import CnnPolicy, MlpPolicy, MultiInputPolicy

__all__ = ["LQL", "CnnPolicy", "MlpPolicy", "MultiInputPolicy"]
