using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace ConcurrencyKata.Companion;

/// <summary>
/// Which step each test grades: the <c>[Step(N)]</c> attribute (ConcurrencyKata.TestSupport.StepAttribute, which
/// NUnit reports as the category <c>StepN</c>) on the test method or its fixture, read straight from the test assembly.
/// This is the kata's one rule for a test's step: the board, the catalog and CI all use it. (A repository test makes
/// sure a fixture's <c>StepN_</c> name prefix says the same number, so that people reading the tests are not misled.)
/// Reading the assembly, rather than a results file, means the step is known even for a run whose test host died.
/// </summary>
internal sealed class StepMap
{
    private const string StepAttributeNamespace = "ConcurrencyKata.TestSupport";
    private const string StepAttributeName = "StepAttribute";

    private readonly Dictionary<string, int> _fixtures;
    private readonly Dictionary<string, int> _methods;

    private StepMap(Dictionary<string, int> fixtures, Dictionary<string, int> methods)
    {
        _fixtures = fixtures;
        _methods = methods;
    }

    /// <summary>A map that knows no step (an assembly that is missing or unreadable).</summary>
    public static StepMap None { get; } = new([], []);

    /// <summary>The fixtures (full names) that carry a step, and their step.</summary>
    public IReadOnlyDictionary<string, int> Fixtures => _fixtures;

    /// <summary>Builds a map from known steps (fixture full name → step), for tests of the companion itself.</summary>
    public static StepMap FromFixtures(IReadOnlyDictionary<string, int> fixtures) =>
        new(new Dictionary<string, int>(fixtures, StringComparer.Ordinal), []);

    /// <summary>Reads the steps of the test assembly at <paramref name="assemblyPath"/>; <see cref="None"/> if it cannot be read.</summary>
    public static StepMap Read(string? assemblyPath)
    {
        if (string.IsNullOrEmpty(assemblyPath) || !File.Exists(assemblyPath))
        {
            return None;
        }

        try
        {
            using var stream = File.OpenRead(assemblyPath);
            using var pe = new PEReader(stream);
            if (!pe.HasMetadata)
            {
                return None;
            }

            var reader = pe.GetMetadataReader();
            var fixtures = new Dictionary<string, int>(StringComparer.Ordinal);
            var methods = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var handle in reader.TypeDefinitions)
            {
                var type = reader.GetTypeDefinition(handle);
                var name = FullName(reader, type);
                if (StepOf(reader, TypeStep(reader, type)) is { } step)
                {
                    fixtures[name] = step;
                }

                foreach (var methodHandle in type.GetMethods())
                {
                    var method = reader.GetMethodDefinition(methodHandle);
                    if (StepOf(reader, method.GetCustomAttributes()) is { } methodStep)
                    {
                        methods[name + "." + reader.GetString(method.Name)] = methodStep;
                    }
                }
            }

            return new StepMap(fixtures, methods);
        }
        catch (BadImageFormatException)
        {
            return None;
        }
        catch (IOException)
        {
            return None;
        }
    }

    /// <summary>The step of a test: its own <c>[Step]</c>, else its fixture's; null when neither has one.</summary>
    /// <param name="className">The fixture's full name.</param>
    /// <param name="testName">The test's name; a parameterised test's arguments are ignored.</param>
    public int? StepOf(string className, string testName)
    {
        var paren = testName.IndexOf('(', StringComparison.Ordinal);
        var method = paren >= 0 ? testName[..paren] : testName;
        if (_methods.TryGetValue(className + "." + method, out var step))
        {
            return step;
        }

        return _fixtures.TryGetValue(className, out var fixtureStep) ? fixtureStep : null;
    }

    /// <summary>The attributes that decide a type's step: its own, or (StepAttribute is inherited) its nearest base type's in this assembly.</summary>
    private static CustomAttributeHandleCollection TypeStep(MetadataReader reader, TypeDefinition type)
    {
        var current = type;
        for (var depth = 0; depth < 16; depth++)
        {
            var attributes = current.GetCustomAttributes();
            if (StepOf(reader, attributes) is not null || current.BaseType.IsNil || current.BaseType.Kind != HandleKind.TypeDefinition)
            {
                return attributes;
            }

            current = reader.GetTypeDefinition((TypeDefinitionHandle)current.BaseType);
        }

        return type.GetCustomAttributes();
    }

    private static int? StepOf(MetadataReader reader, CustomAttributeHandleCollection attributes)
    {
        foreach (var handle in attributes)
        {
            var attribute = reader.GetCustomAttribute(handle);
            if (attribute.Constructor.Kind != HandleKind.MemberReference)
            {
                continue;
            }

            var constructor = reader.GetMemberReference((MemberReferenceHandle)attribute.Constructor);
            if (constructor.Parent.Kind != HandleKind.TypeReference)
            {
                continue;
            }

            var attributeType = reader.GetTypeReference((TypeReferenceHandle)constructor.Parent);
            if (reader.GetString(attributeType.Name) != StepAttributeName || reader.GetString(attributeType.Namespace) != StepAttributeNamespace)
            {
                continue;
            }

            // The blob of StepAttribute(int number): the prolog 0x0001, then the int.
            var blob = reader.GetBlobReader(attribute.Value);
            if (blob.Length >= 6 && blob.ReadUInt16() == 1)
            {
                return blob.ReadInt32();
            }
        }

        return null;
    }

    private static string FullName(MetadataReader reader, TypeDefinition type)
    {
        var name = reader.GetString(type.Name);
        if (type.GetDeclaringType() is { IsNil: false } declaring)
        {
            return FullName(reader, reader.GetTypeDefinition(declaring)) + "+" + name;
        }

        var ns = reader.GetString(type.Namespace);
        return ns.Length == 0 ? name : ns + "." + name;
    }
}
