import js from "@eslint/js";
import * as espree from "espree";
import tseslint from "typescript-eslint";

export default tseslint.config(
    {
        ignores: ["node_modules/", "policy/node_modules/", "bin/", "rendered/", ".cluster/"],
    },
    js.configs.recommended,
    ...tseslint.configs.recommended,
    {
        // The drain helpers and the media check's probe run inside the Licode image with its
        // Node.js 12: ES2019, CommonJS.
        files: ["components/drain/*.js", "tools/check-media/*.js"],
        languageOptions: {
            // espree, not the TypeScript parser, so syntax newer than ES2019 fails the lint.
            parser: espree,
            ecmaVersion: 2019,
            sourceType: "commonjs",
            globals: {
                Buffer: "readonly",
                URL: "readonly",
                clearTimeout: "readonly",
                console: "readonly",
                global: "writable",
                module: "writable",
                process: "readonly",
                require: "readonly",
                setTimeout: "readonly",
            },
        },
        rules: {
            "@typescript-eslint/no-require-imports": "off",
            curly: "error",
            eqeqeq: "error",
            "prefer-const": "error",
            "no-var": "error",
        },
    },
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
