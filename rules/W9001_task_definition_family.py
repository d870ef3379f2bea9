"""W9001: an ECS task definition without Family.

Lesson: without `Family`, CloudFormation names the family after the stack and logical id plus a random
suffix, and any change that replaces the task definition starts a new family instead of a new revision
(todobackend:1, :2, ...). Revisions, rollbacks and `aws ecs` commands that name the family stop lining
up. Set a fixed Family.
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ecs-taskdefinition.html
"""
from cfnlint.rules import CloudFormationLintRule, RuleMatch


class TaskDefinitionFamily(CloudFormationLintRule):
    id = "W9001"
    shortdesc = "ECS task definition without Family"
    description = "A task definition without Family gets a random family name: changes start new families, not revisions."
    source_url = "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ecs-taskdefinition.html"
    tags = ["resources", "ecs", "project"]

    def match(self, cfn):
        return [
            RuleMatch(["Resources", name], f"{name} has no Family: each replacement gets a new random family")
            for name, body in cfn.get_resources("AWS::ECS::TaskDefinition").items()
            # Properties that are not a mapping (an intrinsic, a wrong type) cannot be decided.
            if isinstance(properties := body.get("Properties", {}), dict) and "Family" not in properties
        ]
