from sb3_lql.nclql.nclql import NCLQL
from sb3_lql.nclql.policies import MlpPolicy, MultiInputPolicy

__all__ = ["NCLQL", "MlpPolicy", "MultiInputPolicy"]
