import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
    {
        ignores: ["node_modules/", "policy/node_modules/", "bin/", "rendered/", ".cluster/"],
    },
    js.configs.recommended,
    ...tseslint.configs.recommended,
    {
        files: ["**/*.ts"],
        rules: {
            curly: "error",
            eqeqeq: "error",
            "prefer-const": "error",
            "no-var": "error",
            "default-case": "error",
            "@typescript-eslint/prefer-nullish-coalescing": "off",
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
            "no-restricted-syntax": [
                "error",
                {
                    selector:
                        "LogicalExpression[operator='||'][right.type=/Literal|ArrayExpression|ObjectExpression/]",
                    message: "Use ?? for defaults: || also replaces 0, false and empty strings.",
                },
            ],
        },
    },
);
