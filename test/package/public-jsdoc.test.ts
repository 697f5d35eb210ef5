/**
 * Every name src/index.ts exports — functions, classes and types — carries a
 * JSDoc comment with an `@example`: it is what an editor shows a user of the
 * package, and the declarations ship those comments.
 */
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const INDEX = fileURLToPath(new URL("../../src/index.ts", import.meta.url));

function publicDeclarations(): { name: string; declaration: ts.Declaration }[] {
  const program = ts.createProgram([INDEX], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2023,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(INDEX)!)!;
  return checker.getExportsOfModule(moduleSymbol).map((exported) => {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    return { name: exported.name, declaration: symbol.declarations![0]! };
  });
}

describe("the public API's documentation", () => {
  const declarations = publicDeclarations();

  it("covers the whole barrel", () => {
    expect(declarations.length).toBeGreaterThan(50);
    expect(declarations.map((d) => d.name)).toEqual(
      expect.arrayContaining([
        "ensureImage",
        "pullRemoteImage",
        "pullImage",
        "verifyCredentials",
        "writeRegistriesConfig",
        "PullEvent",
        "PullOutcome",
      ]),
    );
  });

  it("has a JSDoc @example on every export", () => {
    const missing = declarations
      .filter(({ declaration }) => !ts.getJSDocTags(declaration).some((tag) => tag.tagName.text === "example"))
      .map(({ name, declaration }) => `${name} (${declaration.getSourceFile().fileName.replace(/^.*\/src\//, "src/")})`);
    expect(missing).toEqual([]);
  });

  it("marks nothing public as @internal (the build strips those from the declarations)", () => {
    const internal = declarations
      .filter(({ declaration }) => ts.getJSDocTags(declaration).some((tag) => tag.tagName.text === "internal"))
      .map((d) => d.name);
    expect(internal).toEqual([]);
  });
});
