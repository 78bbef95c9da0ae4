from sb3_lql.nclql.nclql import NCLQL
from sb3_lql.nclql.policies import CnnPolicy, MlpPolicy, MultiInputPolicy

__all__ = ["NCLQL", "CnnPolicy", "MlpPolicy", "MultiInputPolicy"]
